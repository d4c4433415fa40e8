/* Axes, ticks and text for the cairo charts (plot.c's line plots,
 * scatter.c's scatter plots), kept in one place so that both draw the same
 * frame, grid, tick labels and fonts, and write their PNGs the same way. */
#ifndef AEKIT_FORMAT_CHART_H
#define AEKIT_FORMAT_CHART_H

#include <cairo.h>
#include <stddef.h>
#include "aekit.h"

#define CHART_PI 3.14159265358979323846 /* M_PI is not C11 */

typedef struct {
    double lo, hi;       /* data range shown */
    double first, step;  /* ticks: first + i*step while <= hi */
    int    nticks;
} chart_axis;

typedef struct {
    double left, top, w, h; /* plot area in pixels */
    chart_axis x, y;
} chart_frame;

/* 1, 2 or 5 x 10^k, the smallest not below raw. */
double chart_nice_step(double raw);
/* Half the axis span: half-differences stay finite near +-DBL_MAX. */
double chart_half_span(const chart_axis *a);
/* Ticks at the multiples of step inside [lo, hi] (a bounded number). */
void chart_place_ticks(chart_axis *a, double step);
/* Tick i's value, snapped to 0 near 0 (no "-0" or 1e-17 labels). */
double chart_tick_value(const chart_axis *a, int i);
/* A tick label with just enough digits to tell ticks step apart. */
void chart_tick_label(char *buf, size_t size, double v, double step);
/* The width of the widest tick label of a in the current font. */
double chart_widest_tick_label(cairo_t *cr, const chart_axis *a);

/* Data coordinates to pixels inside the frame. */
double chart_px_x(const chart_frame *f, double x);
double chart_px_y(const chart_frame *f, double y);

double chart_text_width(cairo_t *cr, const char *s);
/* Draws s with its anchor at (x, y): ax/ay 0 = left/top, 0.5 centre,
 * 1 right/bottom; font is the font size set. */
void chart_text_at(cairo_t *cr, const char *s, double x, double y, double ax, double ay,
                   double font);
void chart_set_font(cairo_t *cr, double size, int bold);

/* The font scale of a width x height chart (1 at 640 x 480). */
double chart_scale(int width, int height);
/* Grid lines (grey level `grid`), tick marks and tick labels of both axes. */
void chart_draw_ticks(cairo_t *cr, const chart_frame *f, double sc, double grid);
/* The 1-pixel box around the plot area. */
void chart_draw_frame(cairo_t *cr, const chart_frame *f);
/* The x label under the chart and the y label turned up its left side, in
 * the current colour; either may be NULL or "". */
void chart_axis_labels(cairo_t *cr, const chart_frame *f, const char *xlabel,
                       const char *ylabel, int height, double sc);

/* Fails unless width x height is a chart size this module draws well. */
int chart_check_size(const char *path, int width, int height, ae_error *err);
/* A white width x height RGB canvas to draw on. */
cairo_t *chart_canvas(int width, int height);
/* Writes the canvas to path as PNG (atomic) and frees it, also on failure;
 * a drawing error recorded in cr fails without writing. */
int chart_save_png(cairo_t *cr, const char *path, ae_error *err);

#endif
