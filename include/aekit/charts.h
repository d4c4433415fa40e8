/* aekit charts (cairo): line plots of training curves and scatter plots of
 * latent codes, written as PNG. */
#ifndef AEKIT_CHARTS_H
#define AEKIT_CHARTS_H

#include <stdint.h>
#include "aekit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- line plots --------------------------------------------------------- */

typedef struct {
    const char   *label;     /* legend text */
    const double *y;         /* n values; NaN values are skipped */
    double        r, g, b;   /* colour */
} ae_plot_series;

/* Writes a PNG line plot (width x height pixels) of series against
 * x = 1..n, with title, axis labels, ticks and a legend. Atomic write. */
int ae_plot_lines_png(const char *path, const char *title, const char *xlabel,
                      const char *ylabel, const ae_plot_series *series, int nseries,
                      int n, int width, int height, ae_error *err);

/* One line plot of a stack: its texts, series and height in pixels. */
typedef struct {
    const char           *title, *xlabel, *ylabel;
    const ae_plot_series *series;
    int                   nseries, height;
} ae_plot_panel;

/* Writes npanels line plots one under the other in one PNG (width x the
 * sum of their heights), all against x = 1..n and with the first panel's
 * font size; a single panel is ae_plot_lines_png's picture. Atomic write. */
int ae_plot_stack_png(const char *path, const ae_plot_panel *panels, int npanels, int n, int width,
                      ae_error *err);

/* ---- scatter plots ------------------------------------------------------ */

typedef struct {
    const char *title;      /* bold, at the top; NULL or "" = none            */
    const char *subtitle;   /* a smaller line under the title; may be NULL     */
    const char *xlabel;     /* axis labels; may be NULL                        */
    const char *ylabel;
    int         width, height; /* pixels, 160x120 to 10000x10000               */
    /* the legend's name of label k, for 0 <= k < class_count (ae_dataset_class_name);
     * labels without a name (or all, when NULL) are listed by number */
    const char *const *class_names;
    int         class_count;
} ae_scatter_options;

/* Writes a PNG scatter plot of the n points xy [n][2] (x, y interleaved):
 * white background, axis ticks with grid lines, small semi-transparent
 * dots. labels (may be NULL): n class labels >= 0, one colour each
 * (ae_scatter_colour) and a legend right of the plot area (by class name
 * when opt->class_names names the label, else by number); negative labels are
 * drawn grey and left out of the legend. Without labels: one colour, no
 * legend. Non-finite points are not drawn; the ranges come from the finite
 * ones (a constant coordinate gets a range around its value). n may be 0
 * (an empty frame). Atomic write. */
int ae_scatter_png(const char *path, const float *xy, int n, const int *labels,
                   const ae_scatter_options *opt, ae_error *err);

/* The colour of a label: matplotlib's tab10 when every label is below 10,
 * tab20 otherwise (cycling for labels of 20 and more). max_label is the
 * largest label plotted. */
void ae_scatter_colour(int label, int max_label, uint8_t rgb[3]);

#ifdef __cplusplus
}
#endif

#endif
