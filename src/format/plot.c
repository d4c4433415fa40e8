/* Line plots with cairo (training curves): white background, title, axis
 * labels, 1/2/5 x 10^k ticks, lines with point markers, legend top right.
 * The axes, text and PNG output are chart.c's, shared with scatter.c. */
#include "aekit/charts.h"
#include "format/chart.h"
#include "core/error.h"

#include <cairo.h>
#include <limits.h>
#include <math.h>

/* y range from the finite values, with a 5% margin (or +-10% / +-1 when all
 * values are equal); ticks at most about 50 pixels apart. */
static void y_axis(chart_axis *a, const ae_plot_series *s, int nseries, int n, double height_px)
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
    chart_place_ticks(a, chart_nice_step(chart_half_span(a) / (want / 2)));
}

/* x = 1..n with a 3% margin so end markers clear the frame; integer ticks
 * from 1 up, about one per 70 pixels. A single point sits in the middle of
 * [0, 2] with one tick. */
static void x_axis(chart_axis *a, int n, double width_px)
{
    if (n == 1) {
        *a = (chart_axis){.lo = 0, .hi = 2, .first = 1, .step = 1, .nticks = 1};
        return;
    }
    a->lo = 1 - 0.03 * (n - 1);
    a->hi = n + 0.03 * (n - 1);
    double want = fmax(1, floor(width_px / 70));
    chart_place_ticks(a, fmax(1, chart_nice_step((n - 1) / want)));
    while (a->nticks > 0 && a->first < 1) { /* no tick at epoch 0 or below */
        a->first += a->step;
        a->nticks--;
    }
}

static void set_colour(cairo_t *cr, const ae_plot_series *s)
{
    cairo_set_source_rgb(cr, fmin(1, fmax(0, s->r)), fmin(1, fmax(0, s->g)),
                         fmin(1, fmax(0, s->b)));
}

static void draw_series(cairo_t *cr, const chart_frame *f, const ae_plot_series *s, int n,
                        double sc)
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
        double x = chart_px_x(f, i + 1), y = chart_px_y(f, s->y[i]);
        if (pen) cairo_line_to(cr, x, y);
        else cairo_move_to(cr, x, y);
        pen = 1;
    }
    cairo_stroke(cr);
    double r = fmax(2, 3 * sc); /* markers: a lone point is still visible */
    for (int i = 0; i < n; i++) {
        if (!isfinite(s->y[i])) continue;
        cairo_new_sub_path(cr);
        cairo_arc(cr, chart_px_x(f, i + 1), chart_px_y(f, s->y[i]), r, 0, 2 * CHART_PI);
    }
    cairo_fill(cr);
}

static void draw_legend(cairo_t *cr, const chart_frame *f, const ae_plot_series *s, int nseries,
                        double sc)
{
    double fs = 10 * sc, line_h = 1.6 * fs, swatch = 20 * sc, pad = 6 * sc, tw = 0;
    int rows = 0;
    chart_set_font(cr, fs, 0);
    for (int k = 0; k < nseries; k++)
        if (s[k].label) {
            tw = fmax(tw, chart_text_width(cr, s[k].label));
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
        cairo_arc(cr, bx + pad + swatch / 2, y, fmax(2, 3 * sc), 0, 2 * CHART_PI);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        chart_text_at(cr, s[k].label, bx + pad * 2 + swatch, y, 0, 0.5, fs);
        y += line_h;
    }
}

/* Lays out the plot area from the font scale and the widest y tick label. */
static void layout(cairo_t *cr, chart_frame *f, const ae_plot_series *s, int nseries, int n,
                   int width, int height, const char *title, double sc)
{
    f->top = title && title[0] ? 34 * sc : 12 * sc;
    f->h = height - f->top - (10 * sc + 14 * sc + 20 * sc); /* ticks, labels, x label */
    if (f->h < 10) f->h = 10;
    y_axis(&f->y, s, nseries, n, f->h);
    chart_set_font(cr, 10 * sc, 0);
    double widest = chart_widest_tick_label(cr, &f->y);
    f->left = 8 * sc + 14 * sc + widest + 10 * sc; /* y label, tick labels, ticks */
    f->w = width - f->left - 16 * sc;
    if (f->w < 10) f->w = 10;
    x_axis(&f->x, n, f->w);
}

static void draw(cairo_t *cr, const char *title, const char *xlabel, const char *ylabel,
                 const ae_plot_series *s, int nseries, int n, int width, int height, double sc)
{
    chart_frame f;
    layout(cr, &f, s, nseries, n, width, height, title, sc);
    chart_draw_ticks(cr, &f, sc, 0.9);
    chart_draw_frame(cr, &f);
    for (int k = 0; k < nseries; k++) draw_series(cr, &f, &s[k], n, sc);
    draw_legend(cr, &f, s, nseries, sc);

    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    if (title && title[0]) {
        chart_set_font(cr, 15 * sc, 1);
        chart_text_at(cr, title, f.left + f.w / 2, 10 * sc, 0.5, 0, 15 * sc);
    }
    chart_axis_labels(cr, &f, xlabel, ylabel, height, sc);
}

int ae_plot_stack_png(const char *path, const ae_plot_panel *panels, int npanels, int n, int width,
                      ae_error *err)
{
    if (!path) return ae_fail(err, "plot: no output path");
    if (npanels <= 0 || !panels) return ae_fail(err, "%s: nothing to plot (%d panels)", path, npanels);
    if (n <= 0) return ae_fail(err, "%s: nothing to plot (%d points)", path, n);
    long height = 0;
    for (int p = 0; p < npanels; p++) {
        const ae_plot_panel *pn = &panels[p];
        if (pn->nseries <= 0 || !pn->series)
            return ae_fail(err, "%s: nothing to plot (%d series)", path, pn->nseries);
        for (int k = 0; k < pn->nseries; k++)
            if (!pn->series[k].y) return ae_fail(err, "%s: series %d has no values", path, k);
        if (chart_check_size(path, width, pn->height, err) != 0) return -1;
        height += pn->height;
    }
    if (chart_check_size(path, width, height > INT_MAX ? INT_MAX : (int)height, err) != 0) return -1;

    cairo_t *cr = chart_canvas(width, (int)height);
    double sc = chart_scale(width, panels[0].height), top = 0;
    for (int p = 0; p < npanels; p++) {
        const ae_plot_panel *pn = &panels[p];
        cairo_save(cr);
        cairo_translate(cr, 0, top);
        draw(cr, pn->title, pn->xlabel, pn->ylabel, pn->series, pn->nseries, n, width, pn->height, sc);
        cairo_restore(cr);
        top += pn->height;
    }
    return chart_save_png(cr, path, err);
}

int ae_plot_lines_png(const char *path, const char *title, const char *xlabel, const char *ylabel,
                   const ae_plot_series *series, int nseries, int n, int width, int height,
                   ae_error *err)
{
    ae_plot_panel one = { title, xlabel, ylabel, series, nseries, height };
    return ae_plot_stack_png(path, &one, 1, n, width, err);
}
