/* The layer kinds table (layer_kinds.h): each kind's arguments, shape
 * inference, kernels and initialisation fans, wired to the plain kernels of
 * src/layers/. */
#include "model/layer_kinds.h"

#include <stdio.h>
#include <string.h>

#define SPEC(f) offsetof(layer_spec, f)

/* ---- arguments ---- */

static const layer_arg conv_args[] = {
    { NULL,     "conv channels", ARG_INT, 1, 4096, SPEC(units), 0, 1 },
    { "k",      "conv k",        ARG_INT, 1, 31,   SPEC(k), 3, 1 },
    { "stride", "conv stride",   ARG_INT, 1, 16,   SPEC(stride), 1, 0 },
    { "pad",    "conv pad",      ARG_PAD, 0, 31,   SPEC(pad), -1, 1 },
    { "bias",   "bias",          ARG_INT, 0, 1,    SPEC(has_bias), 1, 0 },
};
static const layer_arg pool_args[] = {
    { NULL, "pool size", ARG_INT, 1, 64, SPEC(k), 2, 1 },
};
static const layer_arg upsample_args[] = {
    { NULL, "upsample factor", ARG_INT, 1, 64, SPEC(scale), 2, 1 },
};
static const layer_arg dense_args[] = {
    { NULL,   "dense units", ARG_INT, 1, 1 << 20, SPEC(units), 0, 1 },
    { "bias", "bias",        ARG_INT, 0, 1,       SPEC(has_bias), 1, 0 },
};
static const layer_arg reshape_args[] = {
    { NULL, "reshape channels", ARG_INT, 1, MAX_DIM, SPEC(shape[0]), 0, 1 },
    { NULL, "reshape height",   ARG_INT, 1, MAX_DIM, SPEC(shape[1]), 0, 1 },
    { NULL, "reshape width",    ARG_INT, 1, MAX_DIM, SPEC(shape[2]), 0, 1 },
};
static const layer_arg leaky_relu_args[] = {
    { "slope", "leaky_relu slope", ARG_FLOAT, 0, 0, SPEC(slope), 0.2f, 0 },
};
#define ARGS(a) a, (int)(sizeof a / sizeof a[0])

/* ---- shape inference ---- */

static int conv_infer(ae_layer *l, char *msg, size_t size)
{
    if (l->pad < 0) {
        if (l->k % 2 == 0 || l->stride != 1) {
            snprintf(msg, size, "conv: pad=same needs an odd k and stride 1; give pad=N");
            return -1;
        }
        l->pad = l->k / 2;
    }
    l->conv = (conv2d_shape_t){ .cin = l->in_c, .h = l->in_h, .w = l->in_w, .cout = l->units,
                                .k = l->k, .stride = l->stride, .pad = l->pad };
    if (conv2d_shape(&l->conv)) {
        snprintf(msg, size, "conv: a %dx%d kernel does not fit the %dx%d input", l->k, l->k, l->in_h, l->in_w);
        return -1;
    }
    l->out_c = l->units; l->out_h = l->conv.ho; l->out_w = l->conv.wo;
    l->w_count = (size_t)l->units * l->in_c * l->k * l->k;
    l->w_ndim = 4;
    l->w_shape[0] = l->units; l->w_shape[1] = l->in_c; l->w_shape[2] = l->k; l->w_shape[3] = l->k;
    l->b_count = l->has_bias ? (size_t)l->units : 0;
    return 0;
}

static int pool_infer(ae_layer *l, char *msg, size_t size)
{
    l->out_c = l->in_c;
    l->out_h = pool2d_out(l->in_h, l->k, l->ceil_mode);
    l->out_w = pool2d_out(l->in_w, l->k, l->ceil_mode);
    if (l->out_h < 1 || l->out_w < 1) {
        snprintf(msg, size, "pool: a %dx%d window does not fit the %dx%d input", l->k, l->k, l->in_h, l->in_w);
        return -1;
    }
    return 0;
}

static int upsample_infer(ae_layer *l, char *msg, size_t size)
{
    l->out_c = l->in_c; l->out_h = l->in_h * l->scale; l->out_w = l->in_w * l->scale;
    if (l->out_h > MAX_DIM || l->out_w > MAX_DIM) {
        snprintf(msg, size, "upsample: output too large");
        return -1;
    }
    return 0;
}

static int dense_infer(ae_layer *l, char *msg, size_t size)
{
    if (l->in_h != 1 || l->in_w != 1) {
        snprintf(msg, size, "dense needs a flat input (%dx%dx%d here): add 'flatten' before it",
                 l->in_c, l->in_h, l->in_w);
        return -1;
    }
    l->out_c = l->units; l->out_h = 1; l->out_w = 1;
    l->w_count = (size_t)l->units * l->in_c;
    l->w_ndim = 2; l->w_shape[0] = l->units; l->w_shape[1] = l->in_c;
    l->b_count = l->has_bias ? (size_t)l->units : 0;
    return 0;
}

static int flatten_infer(ae_layer *l, char *msg, size_t size)
{
    (void)msg; (void)size;
    l->out_c = l->in_c * l->in_h * l->in_w; l->out_h = 1; l->out_w = 1;
    return 0;
}

static int reshape_infer(ae_layer *l, char *msg, size_t size)
{
    size_t in = (size_t)l->in_c * l->in_h * l->in_w, out = (size_t)l->out_c * l->out_h * l->out_w;
    if (out != in) {
        snprintf(msg, size, "reshape %d %d %d has %zu values, its input has %zu",
                 l->out_c, l->out_h, l->out_w, out, in);
        return -1;
    }
    return 0;
}

static int same_shape_infer(ae_layer *l, char *msg, size_t size)
{
    (void)msg; (void)size;
    l->out_c = l->in_c; l->out_h = l->in_h; l->out_w = l->in_w;
    return 0;
}

static int sample_infer(ae_layer *l, char *msg, size_t size)
{
    if (l->in_h != 1 || l->in_w != 1 || l->in_c % 2) {
        snprintf(msg, size, "sample needs a flat input of 2 x latent values (mean, then "
                 "log-variance), e.g. 'dense {latent2}'; got %dx%dx%d", l->in_c, l->in_h, l->in_w);
        return -1;
    }
    l->out_c = l->in_c / 2; l->out_h = 1; l->out_w = 1;
    return 0;
}

/* the one-hot label as `units` more channels (the builder bounds in_c) */
static int condition_infer(ae_layer *l, char *msg, size_t size)
{
    (void)msg; (void)size;
    l->out_c = l->in_c + l->units; l->out_h = l->in_h; l->out_w = l->in_w;
    return 0;
}

/* ---- kernels ---- */

static size_t out_count(const ae_layer *l, int n) { return (size_t)n * l->out_size; }

static void conv_forward(const ae_layer *l, const float *W, const float *B, const float *x, float *y,
                         int n, float *ws, const float *eps)
{
    (void)eps;
    conv2d_forward(y, x, W, B, n, &l->conv, ws);
}
static void conv_backward(const ae_layer *l, const float *W, float *dW, float *dB, float *dx,
                          const float *dy, const float *x, const float *y, int n, float *ws,
                          const float *eps, float kl_scale)
{
    (void)y; (void)eps; (void)kl_scale;
    conv2d_backward(dx, dW, dB, dy, x, W, n, &l->conv, ws);
}

static void maxpool_forward(const ae_layer *l, const float *W, const float *B, const float *x, float *y,
                            int n, float *ws, const float *eps)
{
    (void)W; (void)B; (void)ws; (void)eps;
    maxpool2d_forward(y, x, n, l->in_c, l->in_h, l->in_w, l->k, l->ceil_mode);
}
static void maxpool_backward(const ae_layer *l, const float *W, float *dW, float *dB, float *dx,
                             const float *dy, const float *x, const float *y, int n, float *ws,
                             const float *eps, float kl_scale)
{
    (void)W; (void)dW; (void)dB; (void)y; (void)ws; (void)eps; (void)kl_scale;
    maxpool2d_backward(dx, dy, x, n, l->in_c, l->in_h, l->in_w, l->k, l->ceil_mode);
}

static void avgpool_forward(const ae_layer *l, const float *W, const float *B, const float *x, float *y,
                            int n, float *ws, const float *eps)
{
    (void)W; (void)B; (void)ws; (void)eps;
    avgpool2d_forward(y, x, n, l->in_c, l->in_h, l->in_w, l->k, l->ceil_mode);
}
static void avgpool_backward(const ae_layer *l, const float *W, float *dW, float *dB, float *dx,
                             const float *dy, const float *x, const float *y, int n, float *ws,
                             const float *eps, float kl_scale)
{
    (void)W; (void)dW; (void)dB; (void)x; (void)y; (void)ws; (void)eps; (void)kl_scale;
    avgpool2d_backward(dx, dy, n, l->in_c, l->in_h, l->in_w, l->k, l->ceil_mode);
}

static void upsample_forward(const ae_layer *l, const float *W, const float *B, const float *x, float *y,
                             int n, float *ws, const float *eps)
{
    (void)W; (void)B; (void)ws; (void)eps;
    upsample2d_forward(y, x, n, l->in_c, l->in_h, l->in_w, l->scale);
}
static void upsample_backward(const ae_layer *l, const float *W, float *dW, float *dB, float *dx,
                              const float *dy, const float *x, const float *y, int n, float *ws,
                              const float *eps, float kl_scale)
{
    (void)W; (void)dW; (void)dB; (void)x; (void)y; (void)ws; (void)eps; (void)kl_scale;
    upsample2d_backward(dx, dy, n, l->in_c, l->in_h, l->in_w, l->scale);
}

static void dense_fwd(const ae_layer *l, const float *W, const float *B, const float *x, float *y,
                      int n, float *ws, const float *eps)
{
    (void)ws; (void)eps;
    dense_forward(y, x, W, B, n, l->in_c, l->units);
}
static void dense_bwd(const ae_layer *l, const float *W, float *dW, float *dB, float *dx,
                      const float *dy, const float *x, const float *y, int n, float *ws,
                      const float *eps, float kl_scale)
{
    (void)y; (void)ws; (void)eps; (void)kl_scale;
    dense_backward(dx, dW, dB, dy, x, W, n, l->in_c, l->units);
}

/* flatten and reshape: the values stay in place, only the shape changes */
static void copy_forward(const ae_layer *l, const float *W, const float *B, const float *x, float *y,
                         int n, float *ws, const float *eps)
{
    (void)W; (void)B; (void)ws; (void)eps;
    memcpy(y, x, out_count(l, n) * sizeof(float));
}
static void copy_backward(const ae_layer *l, const float *W, float *dW, float *dB, float *dx,
                          const float *dy, const float *x, const float *y, int n, float *ws,
                          const float *eps, float kl_scale)
{
    (void)W; (void)dW; (void)dB; (void)x; (void)y; (void)ws; (void)eps; (void)kl_scale;
    memcpy(dx, dy, out_count(l, n) * sizeof(float));
}

/* the element-wise activations: forward from x, backward from the output y */
#define ACTIVATION(name, ...)                                                                     \
    static void name##_fwd(const ae_layer *l, const float *W, const float *B, const float *x,    \
                           float *y, int n, float *ws, const float *eps)                          \
    {                                                                                             \
        (void)W; (void)B; (void)ws; (void)eps;                                                    \
        name##_forward(y, x, out_count(l, n) __VA_ARGS__);                                        \
    }                                                                                             \
    static void name##_bwd(const ae_layer *l, const float *W, float *dW, float *dB, float *dx,   \
                           const float *dy, const float *x, const float *y, int n, float *ws,     \
                           const float *eps, float kl_scale)                                      \
    {                                                                                             \
        (void)W; (void)dW; (void)dB; (void)x; (void)ws; (void)eps; (void)kl_scale;               \
        name##_backward(dx, dy, y, out_count(l, n) __VA_ARGS__);                                  \
    }
ACTIVATION(relu, )
ACTIVATION(leaky_relu, , l->slope)
ACTIVATION(sigmoid, )
ACTIVATION(tanh, )
#undef ACTIVATION

static void sample_fwd(const ae_layer *l, const float *W, const float *B, const float *x, float *y,
                       int n, float *ws, const float *eps)
{
    (void)W; (void)B; (void)ws;
    sample_forward(y, x, eps, n, l->out_c);
}
static void sample_bwd(const ae_layer *l, const float *W, float *dW, float *dB, float *dx,
                       const float *dy, const float *x, const float *y, int n, float *ws,
                       const float *eps, float kl_scale)
{
    (void)W; (void)dW; (void)dB; (void)y; (void)ws;
    sample_backward(dx, dy, x, eps, n, l->out_c, kl_scale);
}

static void condition_fwd(const ae_layer *l, const float *W, const float *B, const float *x, float *y,
                          int n, float *ws, const float *onehot)
{
    (void)W; (void)B; (void)ws;
    condition_forward(y, x, onehot, n, l->in_c, (size_t)l->in_h * l->in_w, l->units);
}
static void condition_bwd(const ae_layer *l, const float *W, float *dW, float *dB, float *dx,
                          const float *dy, const float *x, const float *y, int n, float *ws,
                          const float *eps, float kl_scale)
{
    (void)W; (void)dW; (void)dB; (void)x; (void)y; (void)ws; (void)eps; (void)kl_scale;
    condition_backward(dx, dy, n, l->in_c, (size_t)l->in_h * l->in_w, l->units);
}

/* ---- initialisation fans ---- */

static void conv_fans(const ae_layer *l, double *fan_in, double *fan_out)
{
    *fan_in = (double)l->in_c * l->k * l->k;
    *fan_out = (double)l->units * l->k * l->k;
}

static void dense_fans(const ae_layer *l, double *fan_in, double *fan_out)
{
    *fan_in = l->in_c;
    *fan_out = l->units;
}

/* ---- the table ---- */

const layer_kind_info layer_kinds[L_KIND_COUNT] = {
    [L_CONV]       = { "conv",       1, 1, ARGS(conv_args), 0, conv_infer, conv_forward, conv_backward, conv_fans },
    [L_MAXPOOL]    = { "maxpool",    0, 1, ARGS(pool_args), 1, pool_infer, maxpool_forward, maxpool_backward, NULL },
    [L_AVGPOOL]    = { "avgpool",    0, 1, ARGS(pool_args), 1, pool_infer, avgpool_forward, avgpool_backward, NULL },
    [L_UPSAMPLE]   = { "upsample",   0, 1, ARGS(upsample_args), 0, upsample_infer, upsample_forward, upsample_backward, NULL },
    [L_DENSE]      = { "dense",      1, 1, ARGS(dense_args), 0, dense_infer, dense_fwd, dense_bwd, dense_fans },
    [L_FLATTEN]    = { "flatten",    0, 0, NULL, 0, 0, flatten_infer, copy_forward, copy_backward, NULL },
    [L_RESHAPE]    = { "reshape",    3, 3, ARGS(reshape_args), 0, reshape_infer, copy_forward, copy_backward, NULL },
    [L_RELU]       = { "relu",       0, 0, NULL, 0, 0, same_shape_infer, relu_fwd, relu_bwd, NULL },
    [L_LEAKY_RELU] = { "leaky_relu", 0, 0, ARGS(leaky_relu_args), 0, same_shape_infer, leaky_relu_fwd, leaky_relu_bwd, NULL },
    [L_SIGMOID]    = { "sigmoid",    0, 0, NULL, 0, 0, same_shape_infer, sigmoid_fwd, sigmoid_bwd, NULL },
    [L_TANH]       = { "tanh",       0, 0, NULL, 0, 0, same_shape_infer, tanh_fwd, tanh_bwd, NULL },
    [L_SAMPLE]     = { "sample",     0, 0, NULL, 0, 0, sample_infer, sample_fwd, sample_bwd, NULL },
    [L_CONDITION]  = { "condition",  0, 0, NULL, 0, 0, condition_infer, condition_fwd, condition_bwd, NULL },
};

int layer_kind_find(const char *name)
{
    for (int k = 0; k < L_KIND_COUNT; k++)
        if (strcmp(layer_kinds[k].name, name) == 0) return k;
    return -1;
}
