/* Line plots through cairo: training curves. */
#ifndef AEKIT_FORMAT_PLOT_H
#define AEKIT_FORMAT_PLOT_H

#include "aekit.h"

typedef struct {
    const char   *label;     /* legend text */
    const double *y;         /* n values; NaN values are skipped */
    double        r, g, b;   /* colour */
} plot_series;

/* Writes a PNG line plot (width x height pixels) of series against
 * x = 1..n, with title, axis labels, ticks and a legend. Atomic write. */
int plot_lines_png(const char *path, const char *title, const char *xlabel,
                   const char *ylabel, const plot_series *series, int nseries,
                   int n, int width, int height, ae_error *err);

#endif
