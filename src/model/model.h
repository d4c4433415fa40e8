/* The model: an encoder and a decoder, each a sequence of layers whose
 * shapes are inferred at build time from the input shape. Parameters live in
 * one contiguous float array; each layer knows its offsets into it. Working
 * memory (activations, gradients, scratch) is sized once per (images per
 * thread, threads) and reused for every step: nothing is allocated inside
 * the training loop.                                                      */
#ifndef AEKIT_MODEL_MODEL_H
#define AEKIT_MODEL_MODEL_H

#include <stddef.h>
#include "aekit.h"
#include "layers/layers.h"

typedef enum {
    L_CONV, L_MAXPOOL, L_AVGPOOL, L_UPSAMPLE, L_DENSE, L_FLATTEN, L_RESHAPE,
    L_RELU, L_LEAKY_RELU, L_SIGMOID, L_TANH
} layer_kind;

enum { PART_ENCODER = 0, PART_DECODER = 1 };

typedef struct {
    layer_kind kind;
    int  part;              /* PART_ENCODER or PART_DECODER              */
    int  index;             /* position in its nn.Sequential (tensor name) */
    int  line;              /* line in the description, for messages      */
    /* settings from the description */
    int  units;             /* conv: output channels; dense: outputs     */
    int  k, stride, pad;    /* conv / pool window                        */
    int  ceil_mode;         /* pools                                     */
    int  scale;             /* upsample factor                           */
    int  has_bias;
    float slope;            /* leaky_relu                                */
    /* shapes per image, filled by the builder */
    int  in_c, in_h, in_w, out_c, out_h, out_w;
    size_t in_size, out_size;
    conv2d_shape_t conv;
    /* parameters: offsets into model->params */
    size_t w_off, w_count, b_off, b_count;
    int  w_ndim;
    long w_shape[4];
    /* offset of this layer's output inside a thread's activation buffer,
     * in floats per image (multiply by the chunk size)                 */
    size_t act_off;
} ae_layer;

typedef struct ae_work ae_work;

struct ae_model {
    char    *description;   /* the text the model was built from */
    char     origin[256];
    int      in_c, in_h, in_w;
    ae_loss  loss;
    ae_layer *layers;
    int      nlayers;
    int      n_encoder;     /* layers [0, n_encoder) are the encoder */
    float   *params;
    size_t   nparams;
    size_t   act_per_image; /* sum of out_size over layers          */
    size_t   max_act;       /* largest in/out size of any layer      */
    char   **meta_keys, **meta_vals;
    int      nmeta;
    ae_work *work;
};

/* Builds layers and shapes from a description; params zero, not initialised. */
int  model_parse(ae_model *m, const char *text, const char *origin, ae_error *err);
/* PyTorch-style tensor name of a layer's weight or bias. */
void model_tensor_name(const ae_layer *l, const char *what, char *buf, size_t size);
/* Index of the model's output logits layer when the model ends in sigmoid
 * and trains with BCE (the loss is then computed from logits), else -1. */
int  model_logits_layer(const ae_model *m);

/* ---- working memory and passes (forward.c) ---- */

/* Makes sure working memory holds `per_thread` images on each of `threads`. */
int  work_reserve(ae_model *m, int per_thread, int threads, ae_error *err);
void work_free(ae_work *w);
int  work_threads(const ae_model *m);
/* Forward of n images through layers [0, upto) on thread t's buffers.
 * Returns a pointer to layer (upto-1)'s output. */
const float *model_forward_chunk(ae_model *m, int t, const float *x, int n, int upto);
/* Layer `layer`'s output from thread t's last forward of n images. */
const float *model_activation(const ae_model *m, int t, int layer, int n);
/* Forward + loss + backward for one chunk on thread t; parameter gradients
 * are accumulated into the thread's gradient buffer. Returns the loss sum. */
double model_train_chunk(ae_model *m, int t, const float *x, const float *target,
                         int n, float scale);
/* Thread t's gradient buffer (nparams floats) and input buffer
 * (images-per-thread x input size floats). */
float *work_grad(ae_model *m, int t);
float *work_input(ae_model *m, int t);
/* Number of threads to use for a request (0 = all cores). */
int  resolve_threads(int requested);

#endif
