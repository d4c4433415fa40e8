/* Scatter plots with cairo (latent codes by class): white background,
 * title and subtitle, axis labels, 1/2/5 x 10^k ticks with grid lines,
 * small semi-transparent dots in the order given, a legend of the labels
 * right of the plot area. The axes, text and PNG output are chart.c's, so
 * that these look like plot.c's line plots. */
#include "aekit/charts.h"
#include "format/chart.h"
#include "core/error.h"

#include "aekit/text.h"

#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* matplotlib's tab10 and tab20 */
static const uint8_t tab10[10][3] = {
    {0x1f, 0x77, 0xb4}, {0xff, 0x7f, 0x0e}, {0x2c, 0xa0, 0x2c}, {0xd6, 0x27, 0x28},
    {0x94, 0x67, 0xbd}, {0x8c, 0x56, 0x4b}, {0xe3, 0x77, 0xc2}, {0x7f, 0x7f, 0x7f},
    {0xbc, 0xbd, 0x22}, {0x17, 0xbe, 0xcf},
};
static const uint8_t tab20[20][3] = {
    {0x1f, 0x77, 0xb4}, {0xae, 0xc7, 0xe8}, {0xff, 0x7f, 0x0e}, {0xff, 0xbb, 0x78},
    {0x2c, 0xa0, 0x2c}, {0x98, 0xdf, 0x8a}, {0xd6, 0x27, 0x28}, {0xff, 0x98, 0x96},
    {0x94, 0x67, 0xbd}, {0xc5, 0xb0, 0xd5}, {0x8c, 0x56, 0x4b}, {0xc4, 0x9c, 0x94},
    {0xe3, 0x77, 0xc2}, {0xf7, 0xb6, 0xd2}, {0x7f, 0x7f, 0x7f}, {0xc7, 0xc7, 0xc7},
    {0xbc, 0xbd, 0x22}, {0xdb, 0xdb, 0x8d}, {0x17, 0xbe, 0xcf}, {0x9e, 0xda, 0xe5},
};
static const uint8_t grey[3] = {0xb0, 0xb0, 0xb0}; /* negative labels */

void ae_scatter_colour(int label, int max_label, uint8_t rgb[3])
{
    const uint8_t *c = label < 0      ? grey
                       : max_label < 10 ? tab10[label % 10]
                                        : tab20[label % 20];
    memcpy(rgb, c, 3);
}

typedef struct {
    int *values;  /* distinct labels >= 0, ascending */
    int  n;       /* how many */
    int  max;     /* largest label (-1 when none) */
} label_set;

/* The range of coordinate k of the finite points with a 5% margin each side
 * (+-10% of the value, or +-1 around 0, when all are equal). */
static void data_range(chart_axis *a, const float *xy, int n, int k)
{
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++) {
        double x = xy[2 * i], y = xy[2 * i + 1];
        if (!isfinite(x) || !isfinite(y)) continue;
        double v = k ? y : x;
        lo = fmin(lo, v);
        hi = fmax(hi, v);
    }
    if (lo > hi) { /* no finite point */
        lo = -1;
        hi = 1;
    }
    double pad = hi > lo ? (hi / 2 - lo / 2) * 0.1 : (lo != 0 ? fabs(lo) * 0.1 : 1);
    a->lo = isfinite(lo - pad) ? lo - pad : lo;
    a->hi = isfinite(hi + pad) ? hi + pad : hi;
    if (!(a->hi > a->lo)) { /* a margin lost to rounding */
        a->lo = lo - fabs(lo) * 0.1 - 1e-30;
        a->hi = hi + fabs(hi) * 0.1 + 1e-30;
    }
}

static void set_rgb(cairo_t *cr, const uint8_t c[3], double alpha)
{
    cairo_set_source_rgba(cr, c[0] / 255.0, c[1] / 255.0, c[2] / 255.0, alpha);
}

/* Ticks about every px_per_tick pixels, and never closer than the widest
 * label needs (x axis: labels side by side). */
static void axis_ticks(cairo_t *cr, chart_axis *a, double length_px, double px_per_tick,
                       int horizontal, double sc)
{
    double want = fmax(2, floor(length_px / px_per_tick));
    double step = chart_nice_step(chart_half_span(a) / (want / 2));
    for (int tries = 0; tries < 8; tries++) {
        chart_place_ticks(a, step);
        if (!horizontal || a->nticks < 2) break;
        double widest = chart_widest_tick_label(cr, a);
        double gap_px = step / 2 / chart_half_span(a) * length_px; /* pixels between ticks */
        if (gap_px >= widest + 8 * sc) break;
        step = chart_nice_step(step * 1.5);
    }
}

/* Dot size and opacity by the number of points: big and solid for a few,
 * small and see-through for thousands, so that dense clusters still show. */
static void dot_style(int n, double sc, double *radius, double *alpha)
{
    if (n <= 300)       { *radius = 3.0 * sc; *alpha = 0.85; }
    else if (n <= 2000) { *radius = 2.2 * sc; *alpha = 0.7; }
    else if (n <= 6000) { *radius = 1.7 * sc; *alpha = 0.55; }
    else                { *radius = 1.4 * sc; *alpha = 0.45; }
}

static void draw_points(cairo_t *cr, const chart_frame *f, const float *xy, int n, const int *labels,
                        int max_label, double sc)
{
    double r, alpha;
    dot_style(n, sc, &r, &alpha);
    cairo_save(cr);
    cairo_rectangle(cr, f->left + 1, f->top + 1, f->w - 1, f->h - 1);
    cairo_clip(cr);
    uint8_t c[3];
    ae_scatter_colour(0, 0, c); /* one colour without labels */
    for (int i = 0; i < n; i++) {
        double x = xy[2 * i], y = xy[2 * i + 1];
        if (!isfinite(x) || !isfinite(y)) continue;
        if (labels) ae_scatter_colour(labels[i], max_label, c);
        set_rgb(cr, c, alpha);
        cairo_new_sub_path(cr);
        cairo_arc(cr, chart_px_x(f, x), chart_px_y(f, y), r, 0, 2 * CHART_PI);
        cairo_fill(cr);
    }
    cairo_restore(cr);
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The distinct labels >= 0; -1 when out of memory. */
static int collect_labels(label_set *ls, const int *labels, int n)
{
    memset(ls, 0, sizeof *ls);
    ls->max = -1;
    if (!labels || n <= 0) return 0;
    ls->values = malloc((size_t)n * sizeof *ls->values);
    if (!ls->values) return -1;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (labels[i] >= 0) ls->values[k++] = labels[i];
    qsort(ls->values, (size_t)k, sizeof *ls->values, cmp_int);
    for (int i = 0; i < k; i++)
        if (ls->n == 0 || ls->values[ls->n - 1] != ls->values[i]) ls->values[ls->n++] = ls->values[i];
    if (ls->n) ls->max = ls->values[ls->n - 1];
    return 0;
}

/* A label's legend text: its class name (the first 32 characters) when
 * the options name it, else its number. Cairo draws valid UTF-8 only: the
 * name is cut between characters, and a byte that starts no valid
 * sequence (a folder named in Latin-1) is drawn as '?'. */
#define LEGEND_NAME_CHARS 32
static void label_text(char *buf, size_t size, int label, const ae_scatter_options *o)
{
    const char *name = o->class_names && label >= 0 && label < o->class_count ? o->class_names[label] : NULL;
    if (!name || !name[0]) {
        snprintf(buf, size, "%d", label);
        return;
    }
    size_t used = 0;
    int chars = 0;
    const unsigned char *p = (const unsigned char *)name;
    while (*p && chars < LEGEND_NAME_CHARS && used + 4 + 4 < size) { /* room for "..." and the NUL */
        unsigned cp;
        size_t len = ae_utf8_decode(p, &cp);
        if (len == 0) {
            buf[used++] = '?';
            p++;
        } else {
            memcpy(buf + used, p, len);
            used += len;
            p += len;
        }
        chars++;
    }
    if (*p) {
        memcpy(buf + used, "...", 3);
        used += 3;
    }
    buf[used] = '\0';
}

typedef struct {
    double fs, line_h, swatch, pad, w; /* font, row height, dot column, padding, box width */
    int    rows, more;                 /* labels listed, labels left out ("+more") */
} legend_box;

/* The legend's size for a plot area height_px tall: a heading, one row per
 * label, and when they do not all fit a last row "+k more". */
static void legend_measure(cairo_t *cr, legend_box *lb, const label_set *ls, double height_px,
                           double sc, const ae_scatter_options *o)
{
    memset(lb, 0, sizeof *lb);
    if (ls->n == 0) return;
    lb->fs = 10 * sc;
    lb->line_h = 1.6 * lb->fs;
    lb->swatch = 12 * sc;
    lb->pad = 6 * sc;
    int fit = (int)((height_px - 2 * lb->pad) / lb->line_h) - 1; /* rows under the heading */
    if (fit < 1) fit = 1;
    lb->rows = ls->n <= fit ? ls->n : fit - 1;
    lb->more = ls->n - lb->rows;
    char buf[4 * LEGEND_NAME_CHARS + 8];
    chart_set_font(cr, lb->fs, 1);
    double tw = chart_text_width(cr, "label");
    chart_set_font(cr, lb->fs, 0);
    for (int i = 0; i < lb->rows; i++) {
        label_text(buf, sizeof buf, ls->values[i], o);
        tw = fmax(tw, chart_text_width(cr, buf) + lb->swatch + lb->pad);
    }
    if (lb->more > 0) {
        snprintf(buf, sizeof buf, "+%d more", lb->more);
        tw = fmax(tw, chart_text_width(cr, buf));
    }
    lb->w = 2 * lb->pad + tw;
}

static void draw_legend(cairo_t *cr, const chart_frame *f, const legend_box *lb, const label_set *ls,
                        double sc, const ae_scatter_options *o)
{
    if (ls->n == 0) return;
    int rows = lb->rows, more = lb->more;
    double bx = f->left + f->w + 12 * sc, by = f->top;
    double bh = 2 * lb->pad + (1 + rows + (more > 0)) * lb->line_h;
    cairo_rectangle(cr, round(bx) + 0.5, round(by) + 0.5, round(lb->w), round(bh));
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    double y = by + lb->pad + lb->line_h / 2;
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    chart_set_font(cr, lb->fs, 1);
    chart_text_at(cr, "label", bx + lb->pad, y, 0, 0.5, lb->fs);
    chart_set_font(cr, lb->fs, 0);
    char buf[4 * LEGEND_NAME_CHARS + 8];
    for (int i = 0; i < rows; i++) {
        y += lb->line_h;
        uint8_t c[3];
        ae_scatter_colour(ls->values[i], ls->max, c);
        set_rgb(cr, c, 1);
        cairo_new_sub_path(cr);
        cairo_arc(cr, bx + lb->pad + lb->swatch / 2, y, fmax(2.5, 4 * sc), 0, 2 * CHART_PI);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        label_text(buf, sizeof buf, ls->values[i], o);
        chart_text_at(cr, buf, bx + 2 * lb->pad + lb->swatch, y, 0, 0.5, lb->fs);
    }
    if (more > 0) {
        y += lb->line_h;
        snprintf(buf, sizeof buf, "+%d more", more);
        cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
        chart_text_at(cr, buf, bx + lb->pad, y, 0, 0.5, lb->fs);
    }
}

static void draw(cairo_t *cr, const float *xy, int n, const int *labels, const label_set *ls,
                 const ae_scatter_options *o)
{
    int width = o->width, height = o->height;
    double sc = chart_scale(width, height);
    int has_title = o->title && o->title[0], has_sub = o->subtitle && o->subtitle[0];

    /* layout: title lines, then the plot area; y tick labels, ticks and the
     * y label on the left; the legend on the right; x ticks, tick labels and
     * the x label at the bottom */
    double title_y = 10 * sc, sub_y = has_title ? 32 * sc : 10 * sc;
    chart_frame f;
    f.top = has_sub ? sub_y + 11 * sc + 12 * sc : has_title ? 34 * sc : 12 * sc;
    f.h = height - f.top - (10 * sc + 14 * sc + 20 * sc);
    if (f.h < 10) f.h = 10;
    data_range(&f.x, xy, n, 0);
    data_range(&f.y, xy, n, 1);
    chart_set_font(cr, 10 * sc, 0);
    axis_ticks(cr, &f.y, f.h, 50 * sc, 0, sc);
    double widest = chart_widest_tick_label(cr, &f.y);
    legend_box lb;
    legend_measure(cr, &lb, ls, f.h, sc, o);
    f.left = 8 * sc + 14 * sc + widest + 10 * sc;
    f.w = width - f.left - 16 * sc - (lb.w > 0 ? lb.w + 12 * sc : 0);
    if (f.w < 10) f.w = 10;
    chart_set_font(cr, 10 * sc, 0);
    axis_ticks(cr, &f.x, f.w, 80 * sc, 1, sc);

    chart_draw_ticks(cr, &f, sc, 0.92);
    draw_points(cr, &f, xy, n, labels, ls->max, sc);
    chart_draw_frame(cr, &f);
    draw_legend(cr, &f, &lb, ls, sc, o);

    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    double mid = f.left + f.w / 2;
    if (has_title) {
        chart_set_font(cr, 15 * sc, 1);
        chart_text_at(cr, o->title, mid, title_y, 0.5, 0, 15 * sc);
    }
    if (has_sub) {
        cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
        chart_set_font(cr, 11 * sc, 0);
        chart_text_at(cr, o->subtitle, mid, sub_y, 0.5, 0, 11 * sc);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    }
    chart_axis_labels(cr, &f, o->xlabel, o->ylabel, height, sc);
}

int ae_scatter_png(const char *path, const float *xy, int n, const int *labels,
                const ae_scatter_options *opt, ae_error *err)
{
    if (!path) return ae_fail(err, "scatter: no output path");
    if (!opt) return ae_fail(err, "%s: no plot options", path);
    if (n < 0 || (n > 0 && !xy)) return ae_fail(err, "%s: nothing to plot (%d points)", path, n);
    if (chart_check_size(path, opt->width, opt->height, err) != 0) return -1;
    label_set ls;
    if (collect_labels(&ls, labels, n) != 0)
        return ae_fail(err, "%s: out of memory for %d labels", path, n);

    cairo_t *cr = chart_canvas(opt->width, opt->height);
    draw(cr, xy, n, labels, &ls, opt);
    free(ls.values);
    return chart_save_png(cr, path, err);
}
