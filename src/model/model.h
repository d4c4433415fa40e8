/* The model: an encoder and a decoder, each a sequence of layers whose
 * shapes are inferred at build time from the input shape. Parameters live in
 * one contiguous float array; each layer knows its offsets into it. Working
 * memory (activations, gradients, scratch) is not the model's: it lives in
 * a workspace, sized once per (images per thread, threads) and reused for
 * every step (nothing is allocated inside the training loop), so a loaded
 * model is only read by the passes that use it.                           */
#ifndef AEKIT_MODEL_MODEL_H
#define AEKIT_MODEL_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include "aekit.h"
#include "layers/layers.h"
#include "model/description.h"   /* layer_kind, PART_*, ae_description */

/* How a forward pass treats the VAE sampling layer. */
typedef enum {
    PASS_MEAN,     /* z = mu: encode, reconstruct (deterministic)           */
    PASS_SAMPLE    /* z = mu + sigma * eps, eps from the per-image seeds     */
} pass_mode;

typedef struct {
    layer_kind kind;
    int  part;              /* PART_ENCODER or PART_DECODER              */
    int  index;             /* position in its nn.Sequential (tensor name) */
    int  line;              /* line in the description, for messages      */
    /* settings from the description (its layer_spec) */
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

struct ae_model {
    ae_description desc;    /* what the model is built from (build.c) */
    char    *description;   /* desc printed: the text a model file carries */
    char     origin[256];
    int      in_c, in_h, in_w;
    int      out_c, out_h, out_w;   /* = input unless an `output` line says */
    ae_loss  loss;
    ae_layer *layers;
    int      nlayers;
    int      n_encoder;     /* layers [0, n_encoder) are the encoder          */
    int      n_autoencoder; /* [n_encoder, n_autoencoder) the decoder, and
                               [n_autoencoder, nlayers) the discriminator    */
    int      sample_layer;  /* index of the VAE sampling layer, or -1        */
    int      classes;       /* a conditional model's class count (its
                               `condition` layers take the label), or 0      */
    float   *params;
    size_t   nparams;
    size_t   act_per_image; /* sum of out_size over layers          */
    size_t   max_act;       /* largest in/out size of any layer      */
    char   **meta_keys, **meta_vals;
    int      nmeta;
};

/* Removes metadata key `key` (nothing when absent); the others keep their order. */
void model_remove_meta(ae_model *m, const char *key);
/* Allocates m->params (zeroed), with model_read_slack floats after them. */
int  model_alloc_params(ae_model *m);
/* The floats a dense kernel may read past one of m's operands (its
 * parameters', an activation's): no row of them is longer than max_act. */
size_t model_read_slack(const ae_model *m);
/* Parses a description into m->desc and builds layers and shapes from it
 * (build.c); params not allocated. `latent` replaces {latent} (and
 * 2*latent replaces {latent2}) in the text; 0 = the description's
 * `param latent N` default. */
int  model_parse(ae_model *m, const char *text, const char *origin, int latent, ae_error *err);
/* (Re)builds m's layers and shapes from m->desc and prints m->description
 * from it: after parsing, and after every change to the structure. */
int  model_build(ae_model *m, const char *origin, ae_error *err);
/* PyTorch-style tensor name of a layer's weight or bias. */
void model_tensor_name(const ae_layer *l, const char *what, char *buf, size_t size);
/* Index of the first NaN or infinity in x[lo, hi), or hi when all are
 * finite: the one test of "is every weight (or gradient) a number". */
size_t model_first_nonfinite(const float *x, size_t lo, size_t hi);
/* The layer whose weight or bias holds parameter i, or -1: that tensor's
 * name into buf and i's index in it into *at. */
int  model_param_tensor(const ae_model *m, size_t i, char *buf, size_t size, size_t *at);
/* Index of the model's output logits layer when the model ends in sigmoid
 * and trains with BCE (the loss is then computed from logits), else -1. */
int  model_logits_layer(const ae_model *m);

/* ---- workspaces and passes (forward.c) ----
 * A workspace (ae_workspace, public) holds everything a pass writes: per
 * thread, the input and target images, every layer's output, kernel
 * scratch, the VAE noise, and for training the activation and parameter
 * gradients. The model itself is only read by a pass, so any number of
 * workspaces can run one model at the same time.                          */

/* Images per thread and chunk of the inference calls (apply.c); every
 * workspace holds at least this many per thread. */
#define APPLY_CHUNK 64

/* A workspace for m with `per_thread` images (at least APPLY_CHUNK) on each
 * of `threads` threads (resolved, >= 1); gradients != 0 adds the buffers of
 * the backward passes (training). */
int  workspace_new(ae_workspace **out, const ae_model *m, int per_thread, int threads, int gradients,
                   ae_error *err);
/* 0 when w fits m (made for a model of this shape) and has at least
 * `threads` threads' buffers; else -1 with the reason in err. */
int  workspace_check(const ae_workspace *w, const ae_model *m, int threads, ae_error *err);
int  work_threads(const ae_workspace *w);
/* Thread t's buffers: parameter gradients (nparams floats; training
 * workspaces only), model input (per_thread x input size) and target
 * (per_thread x output size). */
float *work_grad(ae_workspace *w, int t);
float *work_input(ae_workspace *w, int t);
float *work_target(ae_workspace *w, int t);
/* Thread t's latent-sized scratch (per_thread x latent): VAE noise, AAE prior samples. */
float *work_eps(ae_workspace *w, int t);

/* Image i's class label of thread t's next forward pass (a conditional
 * model's `condition` layers take it one-hot); label < m->classes. */
void model_set_label(const ae_model *m, ae_workspace *w, int t, int i, int label);
/* A data set's labels fit a conditional model: it has labels and every
 * one is a class of the model (a model that is not conditional: 0). */
int  model_check_labels(const ae_model *m, const ae_dataset *ds, ae_error *err);

/* Seeds for the VAE sampling noise of the next forward pass on thread t:
 * image i of the chunk draws its eps from (seed, first_id + i), so results
 * do not depend on how a batch is split across threads. */
void model_set_noise(ae_workspace *w, int t, uint64_t seed, uint64_t first_id);

/* Forward of n images through layers [from, to) on thread t of w; x is the
 * input of layer `from`. Returns layer (to-1)'s output (in w). */
const float *model_forward_range(const ae_model *m, ae_workspace *w, int t, const float *x, int n,
                                 int from, int to, pass_mode mode);
/* Backward through layers [from, to) of the last forward on thread t, from
 * the gradient g of layer (to-1)'s output, which must be work buffer
 * model_grad_buffer(w, t) (a training workspace). Parameter gradients
 * accumulate into the thread's gradient buffer; the KL term of a sampling
 * layer enters scaled by kl_scale. Returns the gradient of x when want_dx,
 * else NULL. */
float *model_backward_range(const ae_model *m, ae_workspace *w, int t, const float *x, int n,
                            int from, int to, float kl_scale, int want_dx);
/* The buffer a loss writes its gradient into before model_backward_range. */
float *model_grad_buffer(ae_workspace *w, int t);
/* Layer `layer`'s output from thread t's last forward of n images. */
const float *model_activation(const ae_model *m, const ae_workspace *w, int t, int layer, int n);

/* One reconstruction pass with its loss for a chunk on thread t: forward
 * through encoder and decoder, loss against target (recon and KL sums go to
 * *recon and *kl, the KL unweighted), and when train != 0 (a training
 * workspace) backward with gradients scaled by `scale` (1 / loss
 * denominator), the KL term's by scale x kl_weight (a beta-VAE's beta).
 * Returns recon + kl_weight x kl. */
double model_recon_chunk(const ae_model *m, ae_workspace *w, int t, const float *x,
                         const float *target, int n, float scale, double kl_weight, int train,
                         pass_mode mode, double *recon, double *kl);
/* After an evaluation pass (model_recon_chunk with train = 0) of n images
 * on thread t: each image's loss, recon + kl over the loss denominator of
 * one image, the terms and scale of that pass's sums (their mean is the
 * pass's loss). */
void model_loss_per_image(const ae_model *m, const ae_workspace *w, int t, const float *target, int n,
                          float *loss);
/* Converts images idx[0..cnt) of ds into thread t's target buffer and the
 * model's input (downscaled for super-resolution, corrupted by `noise` with
 * per-image seeds) into its input buffer. */
void model_load_chunk(const ae_model *m, ae_workspace *w, int t, const ae_dataset *ds,
                      const uint32_t *idx, int cnt, const ae_noise *noise, uint64_t noise_seed);
/* ae_evaluate, with the chunks split across the ranks of `ranks` (NULL:
 * one process) as across threads: each rank evaluates its share of the
 * chunks, the per-chunk sums are gathered and added in chunk order on
 * every rank, so the result is the same for any split. per_image (may be
 * NULL): each image's loss (ae_evaluate_per_image; with ranks, only this
 * process's chunks are written). */
int model_evaluate(const ae_model *m, ae_workspace *ws, const ae_dataset *ds, const ae_noise *noise,
                   ae_eval_result *res, float *per_image, int threads, const ae_ranks *ranks, ae_error *err);
/* ae_model_fit_latent, with the chunks split across ranks as model_evaluate's. */
int model_fit_latent(ae_model *m, ae_workspace *ws, const ae_dataset *ds, int threads, const ae_ranks *ranks,
                     ae_error *err);
/* The denominator that turns a loss sum over n images into the reported
 * loss: pixels for bce/mse, images for sse/bce_sum. */
double model_loss_denominator(const ae_model *m, long n);

#endif
