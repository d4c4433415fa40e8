/* Layer kernels: each layer is a plain forward/backward pair over flat float
 * arrays with explicit shapes (the llm.c habit). Kernels know nothing of
 * models, files or threads: the caller splits a batch across threads and hands
 * each kernel a contiguous run of n images.
 *
 * Conventions shared by every kernel here:
 *  - Layout is NCHW (image-major, then channel, row, column), as in PyTorch.
 *  - Forward overwrites its output.
 *  - Backward OVERWRITES the input gradient dx (when dx != NULL) and
 *    ACCUMULATES (+=) parameter gradients (dw, db), so one call per chunk of
 *    images sums into a per-thread gradient buffer that the caller zeroes.
 *  - dx == NULL means "no input gradient wanted" (first layer of a network).
 *  - No kernel allocates memory; kernels that need scratch space say how
 *    much through a *_workspace() function and take a `ws` pointer.
 */
#ifndef AEKIT_LAYERS_H
#define AEKIT_LAYERS_H

#include <stddef.h>

/* ---- conv2d ---------------------------------------------------------------
 * x [n, cin, h, w], weight [cout, cin, k, k] (PyTorch OIHW), bias [cout]
 * (bias may be NULL), symmetric zero padding `pad` on every side, square
 * stride. Output y [n, cout, ho, wo] with
 *   ho = (h + 2*pad - k) / stride + 1,  wo likewise.
 * 'same' for odd k and stride 1 is pad = k/2; 'valid' is pad = 0.         */
typedef struct {
    int cin, h, w;      /* input plane shape                           */
    int cout, k;        /* output channels, kernel size (k x k)        */
    int stride, pad;
    int ho, wo;         /* output plane shape, filled by conv2d_shape() */
} conv2d_shape_t;

/* Fills s->ho, s->wo; returns 0, or -1 when the output would be empty. */
int conv2d_shape(conv2d_shape_t *s);
/* Scratch floats needed by conv2d_forward / conv2d_backward for n images. */
size_t conv2d_workspace(const conv2d_shape_t *s, int n);
void conv2d_forward(float *y, const float *x, const float *weight, const float *bias,
                    int n, const conv2d_shape_t *s, float *ws);
/* conv2d_forward into y and relu_forward of its output into yrelu, in one
 * pass (on the SIMD kernels the ReLU is applied in registers as each output
 * vector is stored; elsewhere per image, while it is in cache): the same
 * bits as the two calls. y NULL: only the ReLU's output is written (the
 * conv's output is needed by nothing but the ReLU: its backward reads the
 * ReLU's output); yrelu NULL: conv2d_forward. Not both NULL. */
void conv2d_relu_forward(float *y, float *yrelu, const float *x, const float *weight, const float *bias,
                         int n, const conv2d_shape_t *s, float *ws);
void conv2d_backward(float *dx, float *dweight, float *dbias, const float *dy,
                     const float *x, const float *weight,
                     int n, const conv2d_shape_t *s, float *ws);

/* ---- max-pool 2d ------------------------------------------------------------
 * Window k x k, stride k (k = 2 in the lesson). ceil_mode = 1 keeps a partial
 * window at the bottom/right edge (Keras padding='same', PyTorch
 * ceil_mode=True: 7 -> 4); ceil_mode = 0 drops it (7 -> 3).
 * ho = ceil_mode ? ceil(h/k) : floor(h/k).
 * Ties: the first maximum in row-major window order gets the gradient
 * (PyTorch's CPU rule). Backward recomputes the argmax from x.            */
int  pool2d_out(int h, int k, int ceil_mode);
void maxpool2d_forward(float *y, const float *x, int n, int c, int h, int w,
                       int k, int ceil_mode);
void maxpool2d_backward(float *dx, const float *dy, const float *x,
                        int n, int c, int h, int w, int k, int ceil_mode);
/* relu_backward then maxpool2d_backward in one pass, for a ReLU whose
 * output x the max-pool reads: the same result, bit for bit. */
void maxpool2d_relu_backward(float *dx, const float *dy, const float *x,
                             int n, int c, int h, int w, int k, int ceil_mode);

/* Average pool, same window rules; a partial window averages only the
 * pixels it covers (PyTorch count_include_pad=False with ceil_mode).     */
void avgpool2d_forward(float *y, const float *x, int n, int c, int h, int w,
                       int k, int ceil_mode);
void avgpool2d_backward(float *dx, const float *dy,
                        int n, int c, int h, int w, int k, int ceil_mode);

/* ---- nearest-neighbour upsample by integer factor s ----------------------
 * x [n, c, h, w] -> y [n, c, h*s, w*s]; backward sums each s x s block.   */
void upsample2d_forward(float *y, const float *x, int n, int c, int h, int w, int s);
void upsample2d_backward(float *dx, const float *dy, int n, int c, int h, int w, int s);
/* relu_backward then upsample2d_backward in one pass, for a ReLU whose
 * output x the upsample reads: the same result, bit for bit. */
void upsample2d_relu_backward(float *dx, const float *dy, const float *x, int n, int c, int h, int w, int s);

/* ---- dense (fully connected) -----------------------------------------------
 * x [n, in], weight [out, in] (PyTorch nn.Linear layout), bias [out] or NULL,
 * y [n, out] = x W^T + b.
 * Every x, weight and dy must have readable floats after its end: one of
 * its rows plus DENSE_READ_SLACK (dense_read_slack). BLIS 0.9.0's
 * small-matrix kernels read past an operand for some shapes (a single row
 * with k not a multiple of 8: flame/blis#821, fixed after 0.9.0; Debian 12
 * ships 0.9.0): a little past its end, or, for a weight of one row (out =
 * 1, an AAE discriminator's last layer), into the row after it, at
 * in + 496 floats from its start for in = 500. That crashed when the
 * operand ended near a page boundary: a resumed AAE, whose parameters'
 * mapping ended where the freed checkpoint file's had begun. The values
 * read are unused; aekit's buffers (parameters, workspaces) carry the
 * slack, and a caller's own input is copied into a workspace before the
 * first layer.                                                            */
#define DENSE_READ_SLACK 64
/* Floats readable after an operand whose rows are at most `row` long. */
static inline size_t dense_read_slack(size_t row) { return row + DENSE_READ_SLACK; }
void dense_forward(float *y, const float *x, const float *weight, const float *bias,
                   int n, int in, int out);
void dense_backward(float *dx, float *dweight, float *dbias, const float *dy,
                    const float *x, const float *weight, int n, int in, int out);

/* ---- element-wise activations ------------------------------------------------
 * count = number of floats. Backward takes the forward OUTPUT y (cheaper
 * than x for all of these), and may run in place (dx == dy).              */
void relu_forward(float *y, const float *x, size_t count);
void relu_backward(float *dx, const float *dy, const float *y, size_t count);
void leaky_relu_forward(float *y, const float *x, size_t count, float slope);
void leaky_relu_backward(float *dx, const float *dy, const float *y, size_t count, float slope);
void sigmoid_forward(float *y, const float *x, size_t count);
void sigmoid_backward(float *dx, const float *dy, const float *y, size_t count);
void tanh_forward(float *y, const float *x, size_t count);
void tanh_backward(float *dx, const float *dy, const float *y, size_t count);

/* ---- VAE sampling (the reparameterisation trick) ----------------------------
 * h [n, 2L]: per image, the first L values are the mean mu, the next L the
 * LOG-VARIANCE lv = log sigma^2 (aekit's convention, used consistently by
 * sampling and KL). z [n, L] = mu + exp(lv / 2) * eps with eps [n, L]
 * standard normal; eps == NULL gives z = mu (deterministic encoding).
 * KL to N(0, I), per image: -0.5 * sum(1 + lv - mu^2 - exp(lv)).
 * Backward adds kl_scale * dKL/dh to the sampling gradient.               */
void   sample_forward(float *z, const float *h, const float *eps, int n, int L);
double sample_kl(const float *h, int n, int L);   /* summed over the n images */
void   sample_backward(float *dh, const float *dz, const float *h, const float *eps,
                       int n, int L, float kl_scale);

/* ---- conditioning on a class label ------------------------------------------
 * x [n, c, plane] -> y [n, c + classes, plane]: each image's values, then
 * `classes` planes each filled with its one-hot label's value (onehot
 * [n, classes]; a flat input has plane = 1). Backward keeps the gradient of
 * x's values (the label is an input, not a parameter).                    */
void condition_forward(float *y, const float *x, const float *onehot, int n, int c, size_t plane, int classes);
void condition_backward(float *dx, const float *dy, int n, int c, size_t plane, int classes);

#endif
