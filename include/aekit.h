/* aekit — autoencoders on images, in C.
 *
 * The public API in one header. A typical program:
 *
 *     ae_error err;
 *     ae_dataset *train, *test;
 *     ae_dataset_open(&train, "mnist", AE_SPLIT_TRAIN, &err);
 *     ae_dataset_open(&test,  "mnist", AE_SPLIT_TEST,  &err);
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

#define AEKIT_VERSION "0.1.0"

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

/* Opens a split of a data set. `name` is either
 *  - a data set name ("mnist", "fashion-mnist"), searched as a folder of that
 *    name in $AEKIT_DATA, then ./data, then /usr/share/datasets; or
 *  - a path to a folder holding the four IDX files
 *    (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
 *    t10k-labels-idx1-ubyte), each raw or gzipped (".gz").               */
int  ae_dataset_open(ae_dataset **out, const char *name, ae_split split, ae_error *err);
/* Keeps only the first n images (no-op if n <= 0 or n >= ds->n). */
void ae_dataset_truncate(ae_dataset *ds, int n);
void ae_dataset_free(ae_dataset *ds);
/* Converts images idx[0..count) to floats in [0,1] (NCHW) into out. */
void ae_dataset_batch(const ae_dataset *ds, const uint32_t *idx, int count, float *out);

/* ---- models ---------------------------------------------------------------- */

typedef struct ae_model ae_model;

typedef enum { AE_LOSS_BCE = 0, AE_LOSS_MSE = 1 } ae_loss;

/* Builds a model from a text description (docs/model-format.md). `origin`
 * names the text in error messages (a file name, or "preset conv").       */
int  ae_model_from_text(ae_model **out, const char *text, const char *origin, ae_error *err);
/* Builds one of the shipped presets ("conv", ...), weights initialised from
 * seed 0; ae_model_init reseeds.                                           */
int  ae_model_from_preset(ae_model **out, const char *name, ae_error *err);
/* Names of the shipped presets, NULL-terminated. */
const char *const *ae_model_presets(void);
/* Re-initialises all weights (Glorot-uniform weights, zero biases: Keras'
 * defaults, which the lesson's reference numbers were made with).         */
void ae_model_init(ae_model *m, uint64_t seed);
void ae_model_free(ae_model *m);

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
/* Number of floats in the latent code of one image. */
size_t      ae_model_latent_size(const ae_model *m);
/* The model's description text (layers, one per line). */
const char *ae_model_description(const ae_model *m);
/* The loss the model trains with (its description's `loss` line). */
ae_loss     ae_model_loss(const ae_model *m);
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
 * Threads: 0 = all cores. Allocates working memory on first use. */
int  ae_model_reconstruct(ae_model *m, const float *x, int n, float *y, int threads, ae_error *err);
/* Encoder only: x [n,c,h,w] -> codes [n, latent]. */
int  ae_model_encode(ae_model *m, const float *x, int n, float *codes, int threads, ae_error *err);

/* ---- training ---------------------------------------------------------------- */

typedef enum { AE_OPT_ADAM = 0, AE_OPT_RMSPROP = 1, AE_OPT_SGD = 2 } ae_optimizer;

typedef struct {
    int          epochs;       /* 25 (the lesson)                              */
    int          batch;        /* 128                                          */
    double       lr;           /* 1e-3                                         */
    ae_optimizer optimizer;    /* Adam                                         */
    double       beta1, beta2; /* Adam: 0.9, 0.999                             */
    double       eps;          /* Adam/RMSprop: 1e-8 (PyTorch's default)       */
    double       alpha;        /* RMSprop smoothing: 0.99 (PyTorch)            */
    double       momentum;     /* SGD: 0.9                                     */
    uint64_t     seed;         /* weights (as ae_model_init(m, seed)) and shuffling */
    int          threads;      /* 0 = all cores                                */
    int          init_weights; /* 1: ae_model_init(m, seed) first; 0: keep the
                                  model's weights (fine-tuning, --init)        */
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

/* Evaluates on a whole data set: mean loss of the model's training loss
 * (BCE per pixel), MSE per pixel, PSNR in dB (peak 1.0, from the mean MSE). */
typedef struct { double loss, mse, psnr; } ae_eval_result;
int ae_evaluate(ae_model *m, const ae_dataset *ds, int threads, ae_eval_result *out, ae_error *err);

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
