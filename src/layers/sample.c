/* VAE sampling layer: z = mu + exp(lv/2) * eps, with the KL term's gradient
 * added in backward so the loss never needs to see the heads. */
#include <math.h>

#include "layers/layers.h"

void sample_forward(float *z, const float *h, const float *eps, int n, int L)
{
    for (int i = 0; i < n; i++) {
        const float *mu = h + (size_t)i * 2 * L, *lv = mu + L;
        float *zi = z + (size_t)i * L;
        if (eps) {
            const float *e = eps + (size_t)i * L;
            for (int j = 0; j < L; j++) zi[j] = mu[j] + expf(0.5f * lv[j]) * e[j];
        } else {
            for (int j = 0; j < L; j++) zi[j] = mu[j];
        }
    }
}

double sample_kl(const float *h, int n, int L)
{
    double kl = 0;
    for (int i = 0; i < n; i++) {
        const float *mu = h + (size_t)i * 2 * L, *lv = mu + L;
        for (int j = 0; j < L; j++)
            kl += -0.5 * (1.0 + lv[j] - (double)mu[j] * mu[j] - exp((double)lv[j]));
    }
    return kl;
}

void sample_backward(float *dh, const float *dz, const float *h, const float *eps,
                     int n, int L, float kl_scale)
{
    for (int i = 0; i < n; i++) {
        const float *mu = h + (size_t)i * 2 * L, *lv = mu + L;
        const float *g = dz + (size_t)i * L;
        float *dmu = dh + (size_t)i * 2 * L, *dlv = dmu + L;
        for (int j = 0; j < L; j++) {
            float e = eps ? eps[(size_t)i * L + j] : 0.0f;
            float s = expf(0.5f * lv[j]);
            /* dKL/dmu = mu, dKL/dlv = (exp(lv) - 1) / 2 (expm1: exact near lv = 0) */
            dmu[j] = g[j] + kl_scale * mu[j];
            dlv[j] = g[j] * e * 0.5f * s + kl_scale * 0.5f * expm1f(lv[j]);
        }
    }
}
