/* aekit — autoencoders on images, in C.
 *
 * The public API in one header. A typical program:
 *
 *     ae_error err;
 *     ae_dataset *train, *test;
 *     ae_dataset_open(&train, "mnist", AE_SPLIT_TRAIN, NULL, &err);
 *     ae_dataset_open(&test,  "mnist", AE_SPLIT_TEST,  NULL, &err);
 *
 *     ae_model *m;
 *     ae_model_from_preset(&m, "conv", &err);      // the lesson's conv AE
 *
 *     ae_train_options opt;
 *     ae_train_options_default(&opt);                // Adam 1e-3, batch 128
 *     opt.epochs = 5;
 *     ae_train(m, train, test, &opt, NULL, NULL, &err);
 *
 *     ae_model_save(m, "model.safetensors", &err);
 *
 * Every function that can fail returns 0 on success and -1 on failure, after
 * writing one line naming the file or value at fault into the ae_error (if
 * not NULL). The library never prints and never exits the process.
 *
 * Images are float32 in NCHW layout with pixels in [0, 1]. Model files are
 * safetensors whose tensor names match the state_dict of the equivalent
 * PyTorch module (docs/file-formats.md).
 */
#ifndef AEKIT_H
#define AEKIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AEKIT_VERSION "0.2.0"   /* CMakeLists.txt reads the version from here */

/* ---- errors --------------------------------------------------------------- */

typedef struct {
    char msg[512];
} ae_error;

/* ---- data sets -------------------------------------------------------------
 * A data set keeps its images as uint8 (compact: MNIST's 60k images take
 * 47 MB) and converts to float per batch.                                   */

typedef enum { AE_SPLIT_TRAIN = 0, AE_SPLIT_TEST = 1 } ae_split;

typedef struct ae_dataset {
    int      n;          /* number of images                      */
    int      c, h, w;    /* channels, height, width               */
    uint8_t *pixels;     /* n * c * h * w bytes, NCHW             */
    uint8_t *labels;     /* n labels, or NULL when none           */
    char     source[1024]; /* file the images came from (for messages) */
} ae_dataset;

/* How image folders are fitted to a model's input. */
typedef enum { AE_FIT_RESIZE = 0, AE_FIT_CROP = 1 } ae_fit;
typedef struct {
    int    c, h, w;   /* wanted channels (1 or 3) and size; 0 = as stored (data sets of fixed size) */
    ae_fit fit;
    int    refuse_mismatch; /* 1: a data set of fixed size (IDX, CIFAR) whose images are not
                               c x h x w is refused from its file headers, before its pixels
                               are read; 0: it is returned as stored, for the caller to compare */
} ae_image_options;

/* Opens a split of a data set. `name` is either
 *  - a data set name ("mnist", "fashion-mnist", "cifar10"), searched as a
 *    folder of that name in $AEKIT_DATA, then ./data, then
 *    /usr/share/datasets ("cifar10" also as cifar-10-batches-bin/); or
 *  - a path to a folder holding the four IDX files
 *    (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
 *    t10k-labels-idx1-ubyte), each raw or gzipped (".gz"), a CIFAR-10
 *    binary folder, or an image folder (PNG/JPEG, converted to img's
 *    channels and size; aekit/image.h).
 * img may be NULL for data sets of fixed size (IDX, CIFAR). The image and
 * label counts of IDX files are compared from their headers, before either
 * file's data is read. */
int  ae_dataset_open(ae_dataset **out, const char *name, ae_split split,
                     const ae_image_options *img, ae_error *err);
/* Keeps only the first n images (no-op if n <= 0 or n >= ds->n). */
void ae_dataset_truncate(ae_dataset *ds, int n);
void ae_dataset_free(ae_dataset *ds);
/* Converts images idx[0..count) to floats in [0,1] (NCHW) into out. */
void ae_dataset_batch(const ae_dataset *ds, const uint32_t *idx, int count, float *out);

/* ---- .npy arrays (NumPy's format, docs/file-formats.md) -------------------
 * Writers: C-order little-endian arrays of any shape (0 to 32 dimensions),
 * byte for byte what numpy.save writes; atomic write.
 * Reader: float32 ('<f4', or '<f8' converted) arrays of 1 to 4 dimensions
 * in C order; *ndim and shape[0..*ndim) are set, the caller frees *data. */
int  ae_npy_write_f32(const char *path, const float *data, int ndim, const long *shape, ae_error *err);
int  ae_npy_write_u8(const char *path, const uint8_t *data, int ndim, const long *shape, ae_error *err);
int  ae_npy_read_f32(const char *path, float **data, int *ndim, long *shape /* [4] */, ae_error *err);
/* The shape alone, checked as ae_npy_read_f32 checks the file (dtype, order,
 * dimensions, the file's size against the header), without reading the
 * data: a caller can refuse an array of the wrong shape for the cost of its
 * header. */
int  ae_npy_read_shape(const char *path, int *ndim, long *shape /* [4] */, ae_error *err);

/* ---- models ---------------------------------------------------------------- */

typedef struct ae_model ae_model;

/* Reconstruction losses (the `loss` line of a model description):
 *  BCE, MSE      mean per pixel (the lesson's conv AEs);
 *  SSE, BCE_SUM  summed over an image's pixels, mean over images (VAEs:
 *                added to the per-image KL term).                          */
typedef enum { AE_LOSS_BCE = 0, AE_LOSS_MSE = 1, AE_LOSS_SSE = 2, AE_LOSS_BCE_SUM = 3 } ae_loss;

/* Builds a model from a text description (docs/model-format.md). `origin`
 * names the text in error messages (a file name, or "preset conv").       */
int  ae_model_from_text(ae_model **out, const char *text, const char *origin, ae_error *err);
/* Builds one of the shipped presets ("conv", ...), weights initialised from
 * seed 0; ae_model_init reseeds.                                           */
int  ae_model_from_preset(ae_model **out, const char *name, ae_error *err);
/* The same with a latent size: descriptions may write {latent} (and
 * {latent2} for twice it) where the latent size goes; 0 = the default of
 * their `param latent N` line. A latent size is 1 to AE_MAX_LATENT. */
#define AE_MAX_LATENT (1 << 20)
int  ae_model_from_preset_ex(ae_model **out, const char *name, int latent, ae_error *err);
int  ae_model_from_text_ex(ae_model **out, const char *text, const char *origin, int latent, ae_error *err);
/* Names of the shipped presets, NULL-terminated. */
const char *const *ae_model_presets(void);
/* Re-initialises all weights (Glorot-uniform weights, zero biases: Keras'
 * defaults, which the lesson's reference numbers were made with).         */
void ae_model_init(ae_model *m, uint64_t seed);
void ae_model_free(ae_model *m);
/* The parameter tensors holding a NaN or an infinity, by name
 * ("encoder.0.weight, decoder.3.bias"; after the first few, "and N more"),
 * into buf (always NUL-terminated when size > 0). Returns how many tensors
 * are not finite: 0 when every weight is a number. */
int  ae_model_nonfinite_tensors(const ae_model *m, char *buf, size_t size);

/* Saves weights and the model description to a safetensors file (written to
 * a temporary name, then renamed: never a partial file). */
int  ae_model_save(const ae_model *m, const char *path, ae_error *err);
/* Loads a safetensors file. Files written by aekit carry their description;
 * a file without one (e.g. written by PyTorch) is matched by tensor names and
 * shapes against the presets. Every offset, shape and dtype is checked. */
int  ae_model_load(ae_model **out, const char *path, ae_error *err);

size_t      ae_model_param_count(const ae_model *m);
/* Input image shape (channels, height, width). */
void        ae_model_input_shape(const ae_model *m, int *c, int *h, int *w);
/* Output image shape: the input's, except for super-resolution models. */
void        ae_model_output_shape(const ae_model *m, int *c, int *h, int *w);
/* Number of floats in the latent code of one image. */
size_t      ae_model_latent_size(const ae_model *m);
/* 1 for a VAE (its encoder ends with a `sample` layer). */
int         ae_model_is_variational(const ae_model *m);
/* 1 for an adversarial autoencoder (it has a discriminator). */
int         ae_model_is_adversarial(const ae_model *m);
/* The model's description text (layers, one per line). */
const char *ae_model_description(const ae_model *m);
/* The loss the model trains with (its description's `loss` line), and a
 * way to change it (BCE losses need a decoder ending in sigmoid). */
ae_loss     ae_model_loss(const ae_model *m);
int         ae_model_set_loss(ae_model *m, ae_loss loss, ae_error *err);
/* Human-readable summary: one line per layer with output shape and
 * parameter count. Returns the number of bytes it wanted (snprintf-like). */
size_t      ae_model_summary(const ae_model *m, char *buf, size_t size);
/* Metadata stored with the model (training settings and results), as
 * key/value strings; NULL when the key is absent. */
const char *ae_model_meta(const ae_model *m, const char *key);
int         ae_model_set_meta(ae_model *m, const char *key, const char *value, ae_error *err);
/* Number of metadata entries, and entry i (0 <= i < count) in file order. */
int         ae_model_meta_count(const ae_model *m);
void        ae_model_meta_at(const ae_model *m, int i, const char **key, const char **value);

/* Runs the whole autoencoder on n images: x [n,c,h,w] -> y [n,c,h,w] in [0,1].
 * Threads: 0 = all cores (ae_threads_resolve). Allocates working memory on first use. */
int  ae_model_reconstruct(ae_model *m, const float *x, int n, float *y, int threads, ae_error *err);
/* Encoder only: x [n,c,h,w] -> codes [n, latent]. A VAE gives z_mean. */
int  ae_model_encode(ae_model *m, const float *x, int n, float *codes, int threads, ae_error *err);
/* Decoder only: codes [n, latent] -> images [n, output shape]. */
int  ae_model_decode(ae_model *m, const float *codes, int n, float *y, int threads, ae_error *err);
/* The model's input for n images of its OUTPUT shape: the images themselves,
 * or 2x2 / 4x4 average-pooled for super-resolution models. */
int  ae_model_make_input(const ae_model *m, const float *images, int n, float *input, ae_error *err);
/* Decodes n random latents into images [n, output shape]: from N(0, I) for a
 * VAE or an AAE (their prior); for a plain autoencoder from the Gaussian
 * fitted to its training codes (ae_model_fit_latent; stored in the file). */
int  ae_model_sample(ae_model *m, int n, uint64_t seed, float *images, int threads, ae_error *err);
/* Fits a diagonal Gaussian to the codes of a data set's images and stores it
 * in the model's metadata (aekit.latent.mean / aekit.latent.std). */
int  ae_model_fit_latent(ae_model *m, const ae_dataset *ds, int threads, ae_error *err);
/* Reads that Gaussian back: mean and std, latent-size floats each. */
int  ae_model_latent_gaussian(const ae_model *m, float *mean, float *std, ae_error *err);

/* ---- threads ------------------------------------------------------------------
 * Every `threads` argument and option: 0 = all cores (the processors this
 * process may run on, at most AE_MAX_THREADS), N from 1 to AE_MAX_THREADS =
 * exactly N threads on any machine, so that the same seed and thread count
 * give the same bits everywhere; anything else is refused ("threads must be
 * 0 (all cores) to 256, got 257"). Each thread has its own working buffers:
 * many more threads than cores only cost memory (256 took 5.5 GB).
 * ae_threads_max() is the command line's cap for --threads (AE_THREADS_PER_CORE
 * per core, at most AE_MAX_THREADS), which it applies with a note before
 * calling the library. */
#define AE_MAX_THREADS      256
#define AE_THREADS_PER_CORE 4
int  ae_threads_max(void);
/* The thread count a request runs with, or -1 when it is out of range. */
int  ae_threads_resolve(int requested);

/* ---- corruption (denoising) --------------------------------------------------- */

typedef enum { AE_NOISE_NONE = 0, AE_NOISE_GAUSSIAN = 1, AE_NOISE_SALT_PEPPER = 2 } ae_noise_kind;
typedef struct {
    ae_noise_kind kind;
    float mean, std;   /* gaussian: x + N(mean, std^2), clipped to [0, 1] (lesson: 0.5, 0.5) */
    float p;           /* salt and pepper: each pixel becomes 0 or 1 with probability p */
} ae_noise;

/* Parses "gaussian:MEAN,STD", "saltpepper:P" or "none". */
int  ae_noise_parse(ae_noise *nz, const char *text, ae_error *err);
/* Corrupts n images of `size` floats in place. Image i draws from a stream
 * seeded by (seed, first_index + i), so an image always gets the same noise
 * (the lesson draws it once per image). */
void ae_noise_apply(const ae_noise *nz, float *x, int n, size_t size, uint64_t seed, uint64_t first_index);

/* ---- training ---------------------------------------------------------------- */

typedef enum { AE_OPT_ADAM = 0, AE_OPT_RMSPROP = 1, AE_OPT_SGD = 2 } ae_optimizer;

/* The ranges ae_train accepts (the command line's flags take the same):
 *  epochs     1 to AE_MAX_EPOCHS: the per-epoch history is allocated up front;
 *  lr         AE_MIN_LR to AE_MAX_LR: smaller steps vanish in the float
 *             precision of the weights, the run would train nothing; Adam
 *             and RMSprop move each weight by about lr a step, and weights
 *             moved by more than a thousand a step learn nothing either;
 *  clip_grad  0 (off) or AE_MIN_CLIP_GRAD to AE_MAX_CLIP_GRAD: the clipping
 *             factor is a float, below the minimum the gradient becomes 0;
 *             the norm is compared as a float (at most about 3.4e38);
 *  threads    0 (all cores) to AE_MAX_THREADS, run as asked (above).   */
#define AE_MAX_EPOCHS    1000000
#define AE_MIN_LR        1e-10
#define AE_MAX_LR        1000
#define AE_MIN_CLIP_GRAD 1e-37
#define AE_MAX_CLIP_GRAD 1e38

typedef struct {
    int          epochs;       /* 25 (the lesson)                              */
    int          batch;        /* 128                                          */
    double       lr;           /* 1e-3                                         */
    ae_optimizer optimizer;    /* Adam                                         */
    ae_noise     noise;        /* input corruption for denoising (none)        */
    double       beta1, beta2; /* Adam: 0.9, 0.999                             */
    double       eps;          /* Adam/RMSprop: 1e-8 (PyTorch's default)       */
    double       alpha;        /* RMSprop smoothing: 0.99 (PyTorch)            */
    double       momentum;     /* SGD: 0.9                                     */
    uint64_t     seed;         /* weights (as ae_model_init(m, seed)) and shuffling */
    int          threads;      /* 0 = all cores (ae_threads_resolve)           */
    int          init_weights; /* 1: ae_model_init(m, seed) first; 0: keep the
                                  model's weights (fine-tuning, --init)        */
    double       clip_grad;    /* > 0: scale each step's gradient down to this
                                  global L2 norm (as torch.nn.utils.
                                  clip_grad_norm_); 0 = off                    */
    const char  *checkpoint;   /* checkpoint file (ae_checkpoint_load), or NULL
                                  for none. Written atomically every
                                  checkpoint_steps steps and/or every
                                  checkpoint_epochs epochs (0 = not by that
                                  count), and when the callback stops training
                                  (the run is then left to be resumed: a plain
                                  AE's latent Gaussian is not fitted)          */
    int          checkpoint_steps, checkpoint_epochs;
} ae_train_options;

void ae_train_options_default(ae_train_options *o);

/* Progress report, passed to the callback after every step (end_of_epoch 0)
 * and after each epoch's validation (end_of_epoch 1). When the callback
 * stops training mid-epoch, that epoch gets no end-of-epoch report. */
typedef struct {
    int    epoch, epochs;       /* 1-based epoch                            */
    int    step, steps;         /* 1-based step within the epoch            */
    double train_loss;          /* running mean loss of this epoch so far   */
    double val_loss;            /* end_of_epoch only (NaN without val set)  */
    double val_mse;             /* end_of_epoch only                        */
    double val_recon, val_kl;   /* end_of_epoch: VAE parts of val_loss (kl 0 otherwise) */
    double disc_accuracy;       /* AAE: discriminator accuracy this epoch, else NaN */
    double seconds;             /* training time of this epoch so far       */
    double images_per_second;   /* training throughput of this epoch        */
    int    end_of_epoch;
} ae_progress;

/* Return non-zero from the callback to stop training after this step. */
typedef int (*ae_progress_fn)(const ae_progress *p, void *user);

/* Trains m on `train` (validating on `val` after each epoch when not NULL).
 * Image shapes must match the model's input. */
int ae_train(ae_model *m, const ae_dataset *train, const ae_dataset *val,
             const ae_train_options *opt, ae_progress_fn cb, void *user, ae_error *err);

/* ---- checkpoints and resuming --------------------------------------------------
 * A checkpoint is a safetensors file holding everything a run needs to go on
 * as if never stopped: the model (weights, description, metadata: it loads
 * with ae_model_load too), the optimiser state (Adam's moments and step
 * count, RMSprop's and SGD's buffers; an AAE's three optimisers), the random
 * number generators, the epoch, step and shuffled order, the per-epoch
 * reports so far, and the options (docs/file-formats.md). Resuming with the
 * same thread count gives a model bit-identical to an uninterrupted run.
 *
 * Training stops with an error (keeping the last checkpoint written) when the
 * loss, a gradient or an updated parameter is NaN or infinite; the message
 * names the epoch, the step and the first layer whose gradients (or
 * parameters) are not finite.                                              */

typedef struct ae_train_state ae_train_state;

/* Reads a checkpoint: the model, the options the run was trained with
 * (opt->threads: the thread count it used; opt->checkpoint: `path`, kept in
 * the state) and where it stood. Every value is checked. */
int  ae_checkpoint_load(const char *path, ae_model **model, ae_train_options *opt,
                        ae_train_state **state, ae_error *err);
void ae_train_state_free(ae_train_state *s);

/* Where a run stands. */
typedef struct {
    int    epoch, step, steps;  /* the next step is step + 1 of epoch (1-based);
                                   epoch > epochs: the run is finished      */
    int    epochs_done;         /* epochs with their end-of-epoch report    */
    const ae_progress *history; /* those reports, epochs_done of them (owned by the state) */
    double seconds;             /* training time so far                     */
    int    train_images, val_images;
} ae_train_position;
void ae_train_state_position(const ae_train_state *s, ae_train_position *out);

/* Goes on training the run of `state` (from ae_checkpoint_load, with the
 * model it returned) on the same data sets (checked: counts and contents).
 * opt must equal the stored options in everything that shapes the result;
 * only threads and the checkpoint fields may differ (another thread count
 * sums gradients in another order: the run is then no longer bit-identical
 * to an uninterrupted one). The state advances with training. */
int  ae_train_resume(ae_model *m, const ae_dataset *train, const ae_dataset *val,
                     const ae_train_options *opt, ae_train_state *state,
                     ae_progress_fn cb, void *user, ae_error *err);

/* Evaluates on a whole data set: the model's training loss (for a VAE
 * recon + KL, with sampling noise from fixed per-image seeds), MSE per pixel
 * and PSNR in dB (peak 1.0, from the mean MSE) of the output against the
 * clean images. `noise` (may be NULL) corrupts the inputs, as in training a
 * denoiser; super-resolution models get downscaled inputs. Results that are
 * not finite (NaN or infinite loss or MSE) are an error naming the weight
 * tensors that hold NaN or infinities (or saying that none do: an overflow);
 * *out still holds them. PSNR is infinite only for a perfect output. */
typedef struct { double loss, mse, psnr, recon, kl; } ae_eval_result;
int ae_evaluate(ae_model *m, const ae_dataset *ds, int threads, ae_eval_result *out, ae_error *err);
int ae_evaluate_ex(ae_model *m, const ae_dataset *ds, const ae_noise *noise, int threads,
                   ae_eval_result *out, ae_error *err);

/* ---- pictures ---------------------------------------------------------------- */

/* Writes a PNG of `rows` x `cols` tiles, each one image [c,h,w] (c = 1 or 3)
 * in [0,1] taken in row-major order from `images`, with a 1-pixel-per-`scale`
 * gap. Each pixel is drawn as a scale x scale block. Atomic write. */
int ae_png_write_grid(const char *path, const float *images, int rows, int cols,
                      int c, int h, int w, int scale, ae_error *err);

#ifdef __cplusplus
}
#endif
#endif
