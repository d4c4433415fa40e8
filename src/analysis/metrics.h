/* Quality measures of reconstructions and codes, over a whole data set:
 * mean squared error, PSNR, SSIM, and k-nearest-neighbour accuracy of
 * codes (how well a code keeps the class). All deterministic: the same
 * input gives the same number for any thread count.                     */
#ifndef AEKIT_ANALYSIS_METRICS_H
#define AEKIT_ANALYSIS_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include "aekit.h"

/* Mean of (a - b)^2 over count floats, summed in double. NaN when count is
 * 0 or a pointer is NULL. */
double metric_mse(const float *a, const float *b, size_t count);

/* 10 log10(1 / mse): PSNR in dB for pixels in [0, 1]. +inf for mse 0, NaN
 * for a negative or NaN mse. */
double metric_psnr(double mse);

/* Mean SSIM of images a and b [n, c, h, w] (pixels in [0, 1]) over all
 * images and channels: Wang et al. 2004 with an 11 x 11 Gaussian window
 * (sigma 1.5, truncated at 3.5 sigma as scipy does), K1 = 0.01, K2 = 0.03,
 * data range 1 and population (not sample) covariances, averaged over the
 * positions where the window lies inside the image — what
 * skimage.metrics.structural_similarity(a, b, gaussian_weights=True,
 * sigma=1.5, use_sample_covariance=False, data_range=1) returns per image
 * and channel. NaN when h or w is below 11, a size is not positive, a
 * pointer is NULL, or memory runs out. Threaded over images. */
double metric_ssim(const float *a, const float *b, int n, int c, int h, int w);

/* Classifies each test vector by majority vote of its k nearest training
 * vectors (squared Euclidean distance; among equal distances the lower
 * training index is nearer); a tie of the vote goes to the tied class of
 * the nearest neighbour. *accuracy = fraction of test labels matched.
 * Vectors are rows of dim floats. threads: 0 = all cores. Distances are
 * |a|^2 + |b|^2 - 2 a.b with the norms in double and the dot products
 * summed in float (in fixed order). */
int knn_accuracy(const float *train, const uint8_t *train_labels, long ntrain,
                 const float *test, const uint8_t *test_labels, long ntest, int dim, int k,
                 int threads, double *accuracy, ae_error *err);

#endif
