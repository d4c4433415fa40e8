/* Line plots with cairo (training curves): white background, title, axis
 * labels, 1/2/5 x 10^k ticks, lines with point markers, legend top right.
 * Rendered into an image surface, then streamed into an atomic file. */
#include "format/plot.h"
#include "core/atomic_file.h"
#include "core/error.h"

#include <cairo.h>
#include <math.h>
#include <stdio.h>

#define PLOT_MIN_W 160
#define PLOT_MIN_H 120
#define PLOT_MAX_SIDE 10000
#define MAX_TICKS 60
#define PI 3.14159265358979323846 /* M_PI is not C11 */

typedef struct {
    double lo, hi;       /* data range shown */
    double first, step;  /* ticks: first + i*step while <= hi */
    int    nticks;
} axis;

typedef struct {
    double left, top, w, h; /* plot area in pixels */
    axis   x, y;
} frame;

/* 1, 2 or 5 x 10^k, the smallest not below raw. */
static double nice_step(double raw)
{
    if (!(raw > 0) || !isfinite(raw)) return 1;
    double p = pow(10, floor(log10(raw)));
    double f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

/* Half-differences keep spans finite even for values near +-DBL_MAX. */
static double half_span(const axis *a) { return a->hi / 2 - a->lo / 2; }

static void place_ticks(axis *a, double step)
{
    a->step = step;
    a->first = ceil(a->lo / step) * step;
    a->nticks = 0;
    if (!isfinite(a->first)) return;
    while (a->nticks < MAX_TICKS && a->first + a->nticks * step <= a->hi + step * 1e-9)
        a->nticks++;
}

/* y range from the finite values, with a 5% margin (or +-10% / +-1 when all
 * values are equal); ticks at most about 50 pixels apart. */
static void y_axis(axis *a, const plot_series *s, int nseries, int n, double height_px)
{
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < nseries; k++)
        for (int i = 0; i < n; i++)
            if (isfinite(s[k].y[i])) {
                lo = fmin(lo, s[k].y[i]);
                hi = fmax(hi, s[k].y[i]);
            }
    if (lo > hi) { /* no finite data */
        lo = 0;
        hi = 1;
    }
    double pad = hi > lo ? (hi / 2 - lo / 2) * 0.1 : (lo != 0 ? fabs(lo) * 0.1 : 1);
    a->lo = isfinite(lo - pad) ? lo - pad : lo;
    a->hi = isfinite(hi + pad) ? hi + pad : hi;
    double want = fmax(3, floor(height_px / 50)); /* a tick per ~50 pixels */
    place_ticks(a, nice_step(half_span(a) / (want / 2)));
}

/* x = 1..n with a 3% margin so end markers clear the frame; integer ticks
 * from 1 up, about one per 70 pixels. A single point sits in the middle of
 * [0, 2] with one tick. */
static void x_axis(axis *a, int n, double width_px)
{
    if (n == 1) {
        *a = (axis){.lo = 0, .hi = 2, .first = 1, .step = 1, .nticks = 1};
        return;
    }
    a->lo = 1 - 0.03 * (n - 1);
    a->hi = n + 0.03 * (n - 1);
    double want = fmax(1, floor(width_px / 70));
    place_ticks(a, fmax(1, nice_step((n - 1) / want)));
    while (a->nticks > 0 && a->first < 1) { /* no tick at epoch 0 or below */
        a->first += a->step;
        a->nticks--;
    }
}

static double tick_value(const axis *a, int i)
{
    double v = a->first + i * a->step;
    return fabs(v) < a->step * 1e-6 ? 0 : v; /* no "-0" or 1e-17 labels */
}

static void tick_label(char *buf, size_t size, double v, double step)
{
    double mag = fmax(fabs(v), step);
    if (mag >= 1e6 || step < 1e-4) {
        int prec = (int)(floor(log10(mag)) - floor(log10(step))) + 1;
        snprintf(buf, size, "%.*g", prec < 1 ? 1 : prec > 17 ? 17 : prec, v);
    } else {
        int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
        snprintf(buf, size, "%.*f", dec, v);
    }
}

static double px_x(const frame *f, double x)
{
    return f->left + (x / 2 - f->x.lo / 2) / half_span(&f->x) * f->w;
}

static double px_y(const frame *f, double y)
{
    return f->top + f->h - (y / 2 - f->y.lo / 2) / half_span(&f->y) * f->h;
}

static double text_width(cairo_t *cr, const char *s)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    return e.x_advance;
}

/* Draws s with its anchor at (x, y): ax/ay 0 = left/top, 0.5 centre, 1 right/bottom. */
static void text_at(cairo_t *cr, const char *s, double x, double y, double ax, double ay,
                    double font)
{
    cairo_move_to(cr, x - ax * text_width(cr, s), y + (1 - ay) * font * 0.72); /* ~ascent */
    cairo_show_text(cr, s);
}

static void set_font(cairo_t *cr, double size, int bold)
{
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

static void set_colour(cairo_t *cr, const plot_series *s)
{
    cairo_set_source_rgb(cr, fmin(1, fmax(0, s->r)), fmin(1, fmax(0, s->g)),
                         fmin(1, fmax(0, s->b)));
}

static void draw_axes(cairo_t *cr, const frame *f, double s)
{
    char buf[64];
    double fs = 10 * s, tick = 4 * s;
    set_font(cr, fs, 0);
    cairo_set_line_width(cr, 1);
    for (int i = 0; i < f->y.nticks; i++) {
        double v = tick_value(&f->y, i), y = round(px_y(f, v)) + 0.5;
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9); /* grid line */
        cairo_move_to(cr, f->left, y);
        cairo_line_to(cr, f->left + f->w, y);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        cairo_move_to(cr, f->left - tick, y);
        cairo_line_to(cr, f->left, y);
        cairo_stroke(cr);
        tick_label(buf, sizeof buf, v, f->y.step);
        text_at(cr, buf, f->left - tick - 3 * s, y, 1, 0.5, fs);
    }
    for (int i = 0; i < f->x.nticks; i++) {
        double v = tick_value(&f->x, i), x = round(px_x(f, v)) + 0.5;
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, x, f->top);
        cairo_line_to(cr, x, f->top + f->h);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        cairo_move_to(cr, x, f->top + f->h);
        cairo_line_to(cr, x, f->top + f->h + tick);
        cairo_stroke(cr);
        tick_label(buf, sizeof buf, v, f->x.step);
        text_at(cr, buf, x, f->top + f->h + tick + 2 * s, 0.5, 0, fs);
    }
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_rectangle(cr, round(f->left) + 0.5, round(f->top) + 0.5, round(f->w), round(f->h));
    cairo_stroke(cr);
}

static void draw_series(cairo_t *cr, const frame *f, const plot_series *s, int n, double sc)
{
    set_colour(cr, s);
    cairo_set_line_width(cr, 1.5 * sc);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    int pen = 0; /* a NaN breaks the line */
    for (int i = 0; i < n; i++) {
        if (!isfinite(s->y[i])) {
            pen = 0;
            continue;
        }
        double x = px_x(f, i + 1), y = px_y(f, s->y[i]);
        if (pen) cairo_line_to(cr, x, y);
        else cairo_move_to(cr, x, y);
        pen = 1;
    }
    cairo_stroke(cr);
    double r = fmax(2, 3 * sc); /* markers: a lone point is still visible */
    for (int i = 0; i < n; i++) {
        if (!isfinite(s->y[i])) continue;
        cairo_new_sub_path(cr);
        cairo_arc(cr, px_x(f, i + 1), px_y(f, s->y[i]), r, 0, 2 * PI);
    }
    cairo_fill(cr);
}

static void draw_legend(cairo_t *cr, const frame *f, const plot_series *s, int nseries,
                        double sc)
{
    double fs = 10 * sc, line_h = 1.6 * fs, swatch = 20 * sc, pad = 6 * sc, tw = 0;
    int rows = 0;
    set_font(cr, fs, 0);
    for (int k = 0; k < nseries; k++)
        if (s[k].label) {
            tw = fmax(tw, text_width(cr, s[k].label));
            rows++;
        }
    if (rows == 0) return;
    double bw = pad * 3 + swatch + tw, bh = pad * 2 + rows * line_h;
    double bx = f->left + f->w - bw - 8 * sc, by = f->top + 8 * sc;
    cairo_rectangle(cr, bx, by, bw, bh);
    cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    double y = by + pad + line_h / 2;
    for (int k = 0; k < nseries; k++) {
        if (!s[k].label) continue;
        set_colour(cr, &s[k]);
        cairo_set_line_width(cr, 1.5 * sc);
        cairo_move_to(cr, bx + pad, y);
        cairo_line_to(cr, bx + pad + swatch, y);
        cairo_stroke(cr);
        cairo_arc(cr, bx + pad + swatch / 2, y, fmax(2, 3 * sc), 0, 2 * PI);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        text_at(cr, s[k].label, bx + pad * 2 + swatch, y, 0, 0.5, fs);
        y += line_h;
    }
}

/* Lays out the plot area from the font scale and the widest y tick label. */
static void layout(cairo_t *cr, frame *f, const plot_series *s, int nseries, int n, int width,
                   int height, const char *title, double sc)
{
    f->top = title && title[0] ? 34 * sc : 12 * sc;
    f->h = height - f->top - (10 * sc + 14 * sc + 20 * sc); /* ticks, labels, x label */
    if (f->h < 10) f->h = 10;
    y_axis(&f->y, s, nseries, n, f->h);
    char buf[64];
    double widest = 0;
    set_font(cr, 10 * sc, 0);
    for (int i = 0; i < f->y.nticks; i++) {
        tick_label(buf, sizeof buf, tick_value(&f->y, i), f->y.step);
        widest = fmax(widest, text_width(cr, buf));
    }
    f->left = 8 * sc + 14 * sc + widest + 10 * sc; /* y label, tick labels, ticks */
    f->w = width - f->left - 16 * sc;
    if (f->w < 10) f->w = 10;
    x_axis(&f->x, n, f->w);
}

static void draw(cairo_t *cr, const char *title, const char *xlabel, const char *ylabel,
                 const plot_series *s, int nseries, int n, int width, int height)
{
    double sc = fmin(4, fmax(0.7, fmin(width / 640.0, height / 480.0)));
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    frame f;
    layout(cr, &f, s, nseries, n, width, height, title, sc);
    draw_axes(cr, &f, sc);
    for (int k = 0; k < nseries; k++) draw_series(cr, &f, &s[k], n, sc);
    draw_legend(cr, &f, s, nseries, sc);

    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    if (title && title[0]) {
        set_font(cr, 15 * sc, 1);
        text_at(cr, title, f.left + f.w / 2, 10 * sc, 0.5, 0, 15 * sc);
    }
    set_font(cr, 12 * sc, 0);
    if (xlabel && xlabel[0])
        text_at(cr, xlabel, f.left + f.w / 2, height - 6 * sc, 0.5, 1, 12 * sc);
    if (ylabel && ylabel[0]) {
        cairo_save(cr);
        cairo_translate(cr, 8 * sc, f.top + f.h / 2);
        cairo_rotate(cr, -PI / 2);
        text_at(cr, ylabel, 0, 0, 0.5, 0, 12 * sc);
        cairo_restore(cr);
    }
}

static cairo_status_t write_cb(void *closure, const unsigned char *data, unsigned int len)
{
    return fwrite(data, 1, len, (FILE *)closure) == len ? CAIRO_STATUS_SUCCESS
                                                        : CAIRO_STATUS_WRITE_ERROR;
}

int plot_lines_png(const char *path, const char *title, const char *xlabel, const char *ylabel,
                   const plot_series *series, int nseries, int n, int width, int height,
                   ae_error *err)
{
    if (!path) return ae_fail(err, "plot: no output path");
    if (nseries <= 0 || !series)
        return ae_fail(err, "%s: nothing to plot (%d series)", path, nseries);
    if (n <= 0) return ae_fail(err, "%s: nothing to plot (%d points)", path, n);
    for (int k = 0; k < nseries; k++)
        if (!series[k].y) return ae_fail(err, "%s: series %d has no values", path, k);
    if (width < PLOT_MIN_W || height < PLOT_MIN_H || width > PLOT_MAX_SIDE ||
        height > PLOT_MAX_SIDE)
        return ae_fail(err, "%s: plot size %d x %d (from %d x %d to %d x %d supported)", path,
                       width, height, PLOT_MIN_W, PLOT_MIN_H, PLOT_MAX_SIDE, PLOT_MAX_SIDE);

    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    cairo_t *cr = cairo_create(surf);
    draw(cr, title, xlabel, ylabel, series, nseries, n, width, height);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    if (st != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(surf);
        return ae_fail(err, "%s: drawing failed: %s", path, cairo_status_to_string(st));
    }

    ae_atomic_file af;
    if (ae_atomic_open(&af, path, err) != 0) {
        cairo_surface_destroy(surf);
        return -1;
    }
    st = cairo_surface_write_to_png_stream(surf, write_cb, af.f);
    cairo_surface_destroy(surf);
    if (st != CAIRO_STATUS_SUCCESS) {
        ae_atomic_abort(&af);
        return ae_fail(err, "%s: PNG write failed: %s", path, cairo_status_to_string(st));
    }
    return ae_atomic_commit(&af, err);
}
