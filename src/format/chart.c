/* Axes, ticks and text for the cairo charts: 1/2/5 x 10^k ticks with grid
 * lines, tick labels, axis labels, and the PNG output (an image surface
 * streamed into an atomic file). */
#include "format/chart.h"
#include "aekit/files.h"
#include "core/error.h"

#include <math.h>
#include <stdio.h>

#define CHART_MIN_W 160
#define CHART_MIN_H 120
#define CHART_MAX_SIDE 10000
#define MAX_TICKS 60

double chart_nice_step(double raw)
{
    if (!(raw > 0) || !isfinite(raw)) return 1;
    double p = pow(10, floor(log10(raw)));
    double f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

double chart_half_span(const chart_axis *a) { return a->hi / 2 - a->lo / 2; }

void chart_place_ticks(chart_axis *a, double step)
{
    a->step = step;
    a->first = ceil(a->lo / step) * step;
    a->nticks = 0;
    if (!isfinite(a->first)) return;
    while (a->nticks < MAX_TICKS && a->first + a->nticks * step <= a->hi + step * 1e-9)
        a->nticks++;
}

double chart_tick_value(const chart_axis *a, int i)
{
    double v = a->first + i * a->step;
    return fabs(v) < a->step * 1e-6 ? 0 : v;
}

/* Plain decimals for everyday ranges; %g with the digits the step needs for
 * huge values or tiny steps, where decimals would be unreadable. */
void chart_tick_label(char *buf, size_t size, double v, double step)
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

double chart_widest_tick_label(cairo_t *cr, const chart_axis *a)
{
    char buf[64];
    double widest = 0;
    for (int i = 0; i < a->nticks; i++) {
        chart_tick_label(buf, sizeof buf, chart_tick_value(a, i), a->step);
        widest = fmax(widest, chart_text_width(cr, buf));
    }
    return widest;
}

double chart_px_x(const chart_frame *f, double x)
{
    return f->left + (x / 2 - f->x.lo / 2) / chart_half_span(&f->x) * f->w;
}

double chart_px_y(const chart_frame *f, double y)
{
    return f->top + f->h - (y / 2 - f->y.lo / 2) / chart_half_span(&f->y) * f->h;
}

double chart_text_width(cairo_t *cr, const char *s)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    return e.x_advance;
}

void chart_text_at(cairo_t *cr, const char *s, double x, double y, double ax, double ay,
                   double font)
{
    cairo_move_to(cr, x - ax * chart_text_width(cr, s), y + (1 - ay) * font * 0.72); /* ~ascent */
    cairo_show_text(cr, s);
}

void chart_set_font(cairo_t *cr, double size, int bold)
{
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

/* Text and margins grow with the picture, within limits that keep small
 * charts legible and large ones from shouting. */
double chart_scale(int width, int height)
{
    return fmin(4, fmax(0.7, fmin(width / 640.0, height / 480.0)));
}

/* Lines sit on pixel centres (round + 0.5) so that 1-pixel lines stay sharp. */
void chart_draw_ticks(cairo_t *cr, const chart_frame *f, double sc, double grid)
{
    char buf[64];
    double fs = 10 * sc, tick = 4 * sc;
    chart_set_font(cr, fs, 0);
    cairo_set_line_width(cr, 1);
    for (int i = 0; i < f->y.nticks; i++) {
        double v = chart_tick_value(&f->y, i), y = round(chart_px_y(f, v)) + 0.5;
        cairo_set_source_rgb(cr, grid, grid, grid);
        cairo_move_to(cr, f->left, y);
        cairo_line_to(cr, f->left + f->w, y);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        cairo_move_to(cr, f->left - tick, y);
        cairo_line_to(cr, f->left, y);
        cairo_stroke(cr);
        chart_tick_label(buf, sizeof buf, v, f->y.step);
        chart_text_at(cr, buf, f->left - tick - 3 * sc, y, 1, 0.5, fs);
    }
    for (int i = 0; i < f->x.nticks; i++) {
        double v = chart_tick_value(&f->x, i), x = round(chart_px_x(f, v)) + 0.5;
        cairo_set_source_rgb(cr, grid, grid, grid);
        cairo_move_to(cr, x, f->top);
        cairo_line_to(cr, x, f->top + f->h);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        cairo_move_to(cr, x, f->top + f->h);
        cairo_line_to(cr, x, f->top + f->h + tick);
        cairo_stroke(cr);
        chart_tick_label(buf, sizeof buf, v, f->x.step);
        chart_text_at(cr, buf, x, f->top + f->h + tick + 2 * sc, 0.5, 0, fs);
    }
}

void chart_draw_frame(cairo_t *cr, const chart_frame *f)
{
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, round(f->left) + 0.5, round(f->top) + 0.5, round(f->w), round(f->h));
    cairo_stroke(cr);
}

void chart_axis_labels(cairo_t *cr, const chart_frame *f, const char *xlabel,
                       const char *ylabel, int height, double sc)
{
    chart_set_font(cr, 12 * sc, 0);
    if (xlabel && xlabel[0])
        chart_text_at(cr, xlabel, f->left + f->w / 2, height - 6 * sc, 0.5, 1, 12 * sc);
    if (ylabel && ylabel[0]) {
        cairo_save(cr);
        cairo_translate(cr, 8 * sc, f->top + f->h / 2);
        cairo_rotate(cr, -CHART_PI / 2);
        chart_text_at(cr, ylabel, 0, 0, 0.5, 0, 12 * sc);
        cairo_restore(cr);
    }
}

int chart_check_size(const char *path, int width, int height, ae_error *err)
{
    if (width < CHART_MIN_W || height < CHART_MIN_H || width > CHART_MAX_SIDE ||
        height > CHART_MAX_SIDE)
        return ae_fail(err, "%s: plot size %d x %d (from %d x %d to %d x %d supported)", path,
                       width, height, CHART_MIN_W, CHART_MIN_H, CHART_MAX_SIDE, CHART_MAX_SIDE);
    return 0;
}

cairo_t *chart_canvas(int width, int height)
{
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    cairo_t *cr = cairo_create(surf);
    cairo_surface_destroy(surf); /* cr holds its own reference */
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    return cr;
}

static cairo_status_t write_cb(void *closure, const unsigned char *data, unsigned int len)
{
    return fwrite(data, 1, len, (FILE *)closure) == len ? CAIRO_STATUS_SUCCESS
                                                        : CAIRO_STATUS_WRITE_ERROR;
}

int chart_save_png(cairo_t *cr, const char *path, ae_error *err)
{
    cairo_surface_t *surf = cairo_surface_reference(cairo_get_target(cr));
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
