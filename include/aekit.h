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
 *     ae_model_from_preset(&m, "conv", 0, &err);   // the lesson's conv AE
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
 *
 * Process-wide state: the library changes none. It sets no locale, signal
 * handler, umask or environment variable, and no global OpenMP or BLIS
 * thread count: each parallel region names its own thread count, and each
 * BLIS call asks for one thread through its own run-time object. What it
 * leaves behind is what any user of these libraries does: libgomp keeps its
 * idle worker threads after a call, BLIS initialises its buffer pools on
 * first use. It reads: the environment variables AEKIT_SIMD (once, the
 * first time a kernel runs) and AEKIT_DATA (when opening a data set by
 * name); and the C locale's LC_NUMERIC, since numbers in model
 * descriptions, metadata and checkpoints are read and written with
 * strtod / printf: a host that sets a locale with a decimal comma must set
 * LC_NUMERIC back to "C" around aekit calls.
 */
#ifndef AEKIT_H
#define AEKIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AEKIT_VERSION "0.3.0"   /* CMakeLists.txt reads the version from here */
/* The version of the library a program runs with (AEKIT_VERSION is the
 * one it was compiled against): bindings that load libaekit.so at run
 * time (python/aekit) check it. */
const char *ae_version(void);
/* sizeof(TYPE) of a public struct a binding mirrors, by its C name
 * ("ae_dataset", "ae_progress", ...: the structs of aekit.h and its aekit/
 * headers that python/aekit declares), or 0 for a name it does not know: a
 * binding compares its mirrors' sizes with these when it loads the library. */
size_t ae_sizeof(const char *type);

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
    /* Added in 0.2.0, after the fields above (which keep their places). A
     * data set made by hand, zeroed, has no class names. */
    int      nclasses;     /* class names known (0: none); read them with  */
    char   **class_names;  /* ae_dataset_class_name. One allocation, freed */
                           /* by ae_dataset_free                           */
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
/* The data set's class names, label k named ae_dataset_class_name(ds, k)
 * for k < ae_dataset_class_count(ds) (NULL otherwise, and for a data set
 * without names). Where they come from:
 *  - an image folder: its class folders' names (label = index in sorted
 *    order); none without class folders;
 *  - a CIFAR-10 folder: batches.meta.txt when present (one name per line,
 *    at most 10 names of 1 to 63 printable ASCII characters, at most 4 KB;
 *    anything else makes ae_dataset_open fail naming the file), else the
 *    ten standard names (airplane .. truck);
 *  - an IDX folder: the digits "0" .. "9", or Fashion-MNIST's ten clothes
 *    ("T-shirt/top" .. "Ankle boot") when the folder is named fashion-mnist
 *    (as the name "fashion-mnist" finds it). The IDX files of MNIST and
 *    Fashion-MNIST are alike: only the folder's name tells them apart. */
int         ae_dataset_class_count(const ae_dataset *ds);
const char *ae_dataset_class_name(const ae_dataset *ds, int k);
/* A data set from images in memory (a binding's arrays): copies n images
 * of c x h x w uint8 pixels (NCHW) and n labels (labels may be NULL: none);
 * `source` names the set in messages (NULL: "memory"). Freed by
 * ae_dataset_free. n >= 1, c 1 or 3, h and w 1 to 65536, n*c*h*w at most
 * SIZE_MAX; anything else is refused naming the value. */
int  ae_dataset_from_pixels(ae_dataset **out, const uint8_t *pixels, const uint8_t *labels,
                            int n, int c, int h, int w, const char *source, ae_error *err);
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
/* The name of a loss as descriptions and the model's metadata spell it
 * ("bce", "mse", "sse", "bce_sum"); "?" for a value that is no loss. */
const char *ae_loss_name(ae_loss loss);

/* Builds a model from a text description (docs/model-format.md). `origin`
 * names the text in error messages (a file name, or "preset conv").
 * Descriptions may write {latent} (and {latent2} for twice it) where the
 * latent size goes: `latent` fills it in, 0 = the default of their
 * `param latent N` line. A latent size is 1 to AE_MAX_LATENT.            */
#define AE_MAX_LATENT (1 << 20)
int  ae_model_from_text(ae_model **out, const char *text, const char *origin, int latent, ae_error *err);
/* Builds one of the shipped presets ("conv", ...), weights initialised from
 * seed 0 (ae_model_init reseeds); `latent` as for ae_model_from_text.     */
int  ae_model_from_preset(ae_model **out, const char *name, int latent, ae_error *err);
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
/* Loads a safetensors file's weights into the model `description` describes
 * (docs/model-format.md; `latent` as for ae_model_from_text), whatever
 * description the file carries, if any: a model of your own architecture
 * saved by PyTorch (its state_dict's names and shapes). Every tensor of the
 * model must be in the file with its shape, and no other (but a
 * checkpoint's training state): the error names the first that is missing,
 * misshapen or extra, and the shape expected. The file's other metadata is
 * kept. */
int  ae_model_load_as(ae_model **out, const char *path, const char *description, int latent,
                      ae_error *err);

/* ---- a model's parameter tensors ----------------------------------------------
 * The weights as named tensors, in the order and with the names and shapes
 * a model file stores them: PyTorch's state_dict of the equivalent module
 * (encoder.0.weight, encoder.0.bias, ..., decoder.N.*, discriminator.N.*;
 * conv weights [out, in, k, k], dense [out, in], biases [out]). */
#define AE_TENSOR_NAME_MAX 64
typedef struct {
    char    name[AE_TENSOR_NAME_MAX]; /* "encoder.0.weight"                     */
    float  *data;                     /* count floats, C order                  */
    int     ndim;                     /* 1 to 4                                 */
    int64_t shape[4];                 /* shape[0..ndim)                         */
    size_t  count;                    /* the product of the shape               */
} ae_tensor;

/* Number of parameter tensors; their counts sum to ae_model_param_count. */
int  ae_model_tensor_count(const ae_model *m);
/* Tensor i (0 <= i < ae_model_tensor_count) into *out. out->data points
 * into the model's parameters, valid until ae_model_free: reading is
 * reading the model, and writing through it is how weights are set from
 * outside (a binding's state_dict). Writing changes the model, as
 * ae_model_init does: no other call may use m meanwhile. */
int  ae_model_tensor(const ae_model *m, int i, ae_tensor *out, ae_error *err);
/* Builds a model from named tensors (a PyTorch state_dict; only name, data,
 * ndim and shape are read, data is copied). With a description, the model
 * is built from it (`latent` as for ae_model_from_text); with
 * description == NULL the tensors are matched by names and shapes against
 * the presets, as ae_model_load does for a file without a description,
 * each preset built with `latent` (0 = its default). Every tensor of the
 * model must be there with its shape, and no other: the error names the
 * first that is missing, misshapen or extra (for presets, of the preset
 * that matched longest). `origin` names the tensors in messages. */
int  ae_model_from_tensors(ae_model **out, const ae_tensor *tensors, int count, const char *description,
                           int latent, const char *origin, ae_error *err);

size_t      ae_model_param_count(const ae_model *m);
/* Input image shape (channels, height, width). */
void        ae_model_input_shape(const ae_model *m, int *c, int *h, int *w);
/* Output image shape: the input's, except for super-resolution models. */
void        ae_model_output_shape(const ae_model *m, int *c, int *h, int *w);
/* Number of floats in the latent code of one image. */
size_t      ae_model_latent_size(const ae_model *m);
/* The latent's shape (the last encoder layer's output, C x H x W; a flat
 * code is L x 1 x 1). */
void        ae_model_latent_layout(const ae_model *m, int *c, int *h, int *w);
/* 1 for a VAE (its encoder ends with a `sample` layer). */
int         ae_model_is_variational(const ae_model *m);
/* 1 for an adversarial autoencoder (it has a discriminator). */
int         ae_model_is_adversarial(const ae_model *m);
/* The model's description text (layers, one per line), in its canonical
 * spelling: the text it was built from with {latent} filled in, each line's
 * words normalised, comments and blank lines kept. A model file carries it. */
const char *ae_model_description(const ae_model *m);
/* The loss the model trains with (its description's `loss` line), and a
 * way to change it (BCE losses need a decoder ending in sigmoid): the
 * description's `loss` line changes with it (one is added if it has none). */
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

/* ---- using a model: workspaces and inference ---------------------------------
 * A model is read-only once built, loaded or trained: the inference calls
 * below take a const model and write only to their outputs and to a
 * workspace, the scratch memory of a call (every layer's activations, the
 * kernels' buffers, per thread). Any number of threads may use one model at
 * the same time, each with its own workspace: a workspace serves one call at
 * a time. The calls that change a model (ae_model_init, ae_model_set_loss,
 * ae_model_set_meta, ae_model_fit_latent, ae_train, ae_train_resume,
 * ae_model_free) must not run while another call uses it.
 *
 * A workspace is made for one model and serves it and any model of the same
 * shape (same description and latent size); another model is refused with an
 * error, as is a call asking for more threads than the workspace has. Each
 * inference call also accepts ws = NULL: it then makes a workspace for
 * itself and frees it on return, which costs an allocation and zeroing of
 * its buffers per call (for the conv preset about 15 MB per thread and 10 ms
 * a thread): fine for one call, wasteful in a loop. Results are the same
 * bytes with or without a workspace, and for any thread count.
 *
 * Argument order: the model, the workspace, the inputs, the outputs, the
 * thread count (0 = all cores, ae_threads_resolve), the error.            */

typedef struct ae_workspace ae_workspace;

/* A workspace for calls on m with up to `threads` threads (0 = all cores). */
int  ae_workspace_new(ae_workspace **out, const ae_model *m, int threads, ae_error *err);
void ae_workspace_free(ae_workspace *ws);

/* Runs the whole autoencoder on n images: x [n,c,h,w] -> y [n, output shape] in [0,1]. */
int  ae_model_reconstruct(const ae_model *m, ae_workspace *ws, const float *x, int n, float *y,
                          int threads, ae_error *err);
/* Encoder only: x [n,c,h,w] -> codes [n, latent]. A VAE gives z_mean. */
int  ae_model_encode(const ae_model *m, ae_workspace *ws, const float *x, int n, float *codes,
                     int threads, ae_error *err);
/* Decoder only: codes [n, latent] -> images [n, output shape]. */
int  ae_model_decode(const ae_model *m, ae_workspace *ws, const float *codes, int n, float *y,
                     int threads, ae_error *err);
/* The model's input for n images of its OUTPUT shape: the images themselves,
 * or 2x2 / 4x4 average-pooled for super-resolution models (no workspace). */
int  ae_model_make_input(const ae_model *m, const float *images, int n, float *input, ae_error *err);
/* Decodes n random latents into images [n, output shape]: from N(0, I) for a
 * VAE or an AAE (their prior); for a plain autoencoder from the Gaussian
 * fitted to its training codes (ae_model_fit_latent; stored in the file). */
int  ae_model_sample(const ae_model *m, ae_workspace *ws, int n, uint64_t seed, float *images,
                     int threads, ae_error *err);
/* Fits a diagonal Gaussian to the codes of a data set's images and stores it
 * in the model's metadata (aekit.latent.mean / aekit.latent.std). It writes
 * the model (ae_train calls it at the end of a plain autoencoder's run): no
 * other call may use m meanwhile. */
int  ae_model_fit_latent(ae_model *m, ae_workspace *ws, const ae_dataset *ds, int threads, ae_error *err);
/* Reads that Gaussian back: mean and std, latent-size floats each. */
int  ae_model_latent_gaussian(const ae_model *m, float *mean, float *std, ae_error *err);

/* ---- conditional models ---------------------------------------------------------
 * A model whose description has `condition` layers and a `param classes N`
 * line (docs/model-format.md; the preset `cvae`) takes each image's class
 * label, 0 to N-1, as a one-hot input: training, ae_evaluate and
 * ae_model_fit_latent read the data set's labels (a data set without
 * labels, or with a label >= N, is refused); the calls on images and
 * codes take them as an array, one int per image. The calls above refuse
 * a conditional model, naming the call with labels, and these refuse a
 * model that is not conditional, and a label out of range. */
/* The class count of a conditional model, 0 for any other. */
int  ae_model_class_count(const ae_model *m);
int  ae_model_reconstruct_labels(const ae_model *m, ae_workspace *ws, const float *x, const int *labels,
                                 int n, float *y, int threads, ae_error *err);
int  ae_model_encode_labels(const ae_model *m, ae_workspace *ws, const float *x, const int *labels, int n,
                            float *codes, int threads, ae_error *err);
int  ae_model_decode_labels(const ae_model *m, ae_workspace *ws, const float *codes, const int *labels,
                            int n, float *y, int threads, ae_error *err);
/* ae_model_sample's codes (the same for the same seed), image i decoded as
 * class labels[i]. */
int  ae_model_sample_labels(const ae_model *m, ae_workspace *ws, const int *labels, int n, uint64_t seed,
                            float *images, int threads, ae_error *err);

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
/* The text ae_noise_parse reads ("gaussian:0.5,0.5", "none"; numbers as %g)
 * into buf; returns the length it needed, as snprintf. */
size_t ae_noise_format(const ae_noise *nz, char *buf, size_t size);
/* Corrupts n images of `size` floats in place. Image i draws from a stream
 * seeded by (seed, first_index + i), so an image always gets the same noise
 * (the lesson draws it once per image). */
void ae_noise_apply(const ae_noise *nz, float *x, int n, size_t size, uint64_t seed, uint64_t first_index);

/* ---- training ---------------------------------------------------------------- */

typedef enum { AE_OPT_ADAM = 0, AE_OPT_RMSPROP = 1, AE_OPT_SGD = 2 } ae_optimizer;

/* Learning-rate schedules (--lr-schedule), each PyTorch's scheduler stepped
 * once per epoch, e = epochs done (0 for the first epoch), E = epochs:
 *   constant             lr
 *   cosine[:MIN_LR]      CosineAnnealingLR(T_max=E, eta_min=MIN_LR), closed
 *                        form: MIN_LR + (lr - MIN_LR) (1 + cos(pi e / E)) / 2
 *   step:EVERY,GAMMA     StepLR: lr GAMMA^floor(e / EVERY)
 *   plateau:PATIENCE,FACTOR  ReduceLROnPlateau(mode min, threshold 1e-4 rel,
 *                        cooldown 0, min_lr 0, eps 1e-8) on each epoch's
 *                        validation loss (training loss without a
 *                        validation set): after more than PATIENCE epochs
 *                        without a new best, the rate times FACTOR.
 * A warm-up (warmup_steps N) scales the first N steps' rate: step k
 * (1-based, counted over the run) runs at k/N of the schedule's. */
typedef enum { AE_LR_CONSTANT = 0, AE_LR_COSINE = 1, AE_LR_STEP = 2, AE_LR_PLATEAU = 3 } ae_lr_schedule_kind;
typedef struct {
    ae_lr_schedule_kind kind;
    int    epochs;   /* step: EVERY (>= 1); plateau: PATIENCE (>= 0)       */
    double factor;   /* step: GAMMA in (0, 1]; plateau: FACTOR in (0, 1)   */
    double min_lr;   /* cosine: the floor, 0 to the run's lr               */
} ae_lr_schedule;

/* Parses "constant", "cosine", "cosine:MIN_LR", "step:EVERY,GAMMA" or
 * "plateau:PATIENCE,FACTOR" (the message quotes the text and the forms). */
int    ae_lr_schedule_parse(ae_lr_schedule *s, const char *text, ae_error *err);
/* The text ae_lr_schedule_parse reads (numbers as %g) into buf; returns the
 * length it needed, as snprintf. */
size_t ae_lr_schedule_format(const ae_lr_schedule *s, char *buf, size_t size);

/* The ranges ae_train accepts (the rows of the options table below use
 * these limits; the command line's flags take the same):
 *  epochs     1 to AE_MAX_EPOCHS: the per-epoch history is allocated up front;
 *  lr         AE_MIN_LR to AE_MAX_LR: smaller steps vanish in the float
 *             precision of the weights, the run would train nothing; Adam
 *             and RMSprop move each weight by about lr a step, and weights
 *             moved by more than a thousand a step learn nothing either;
 *  clip_grad  0 (off) or AE_MIN_CLIP_GRAD to AE_MAX_CLIP_GRAD: the clipping
 *             factor is a float, below the minimum the gradient becomes 0;
 *             the norm is compared as a float (at most about 3.4e38);
 *  threads    0 (all cores) to AE_MAX_THREADS, run as asked (above);
 *  weight_decay  0 to AE_MAX_WEIGHT_DECAY (PyTorch sets no limit; useful
 *             values are far below 1: AdamW's decay factor 1 - lr wd must
 *             stay near 1);
 *  beta       0 to AE_MAX_BETA (beta-VAEs use 0.1 to a few hundred; the
 *             KL gradient's factor is a float);
 *  reg_lr     AE_MIN_LR to AE_MAX_LR, as lr.                          */
/* The weights a run ends with: the last epoch's, or the best epoch's
 * (ae_best_epoch: Keras' EarlyStopping(restore_best_weights=True)); the
 * default is last, as in Keras and PyTorch Lightning, with or without
 * early stopping. */
typedef enum { AE_KEEP_LAST = 0, AE_KEEP_BEST = 1 } ae_keep;

/* The best of a run's epochs: 1-based, the first with the lowest of
 * loss[0 .. epochs-1] (each epoch's validation loss, or its training loss
 * when the run has no validation set). An epoch improves on the best so
 * far only when its loss is strictly lower (Keras' EarlyStopping with
 * min_delta 0; NaN never does); 0 when none is a number. */
int ae_best_epoch(const double *loss, int epochs);

#define AE_MAX_EPOCHS    1000000
#define AE_MIN_LR        1e-10
#define AE_MAX_LR        1000
#define AE_MIN_CLIP_GRAD 1e-37
#define AE_MAX_CLIP_GRAD 1e38
#define AE_MAX_WEIGHT_DECAY 1000
#define AE_MAX_BETA      10000

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
                                  count), when the callback stops training
                                  (the run is then left to be resumed: a plain
                                  AE's latent Gaussian is not fitted), and,
                                  with an interval, at the run's end with its
                                  last weights (before keep best restores the
                                  best epoch's): the run's final state, which
                                  ae_train_resume with more epochs extends     */
    int          checkpoint_steps, checkpoint_epochs;
    ae_lr_schedule lr_schedule;/* the learning rate epoch by epoch (constant) */
    int          warmup_steps; /* the first N steps' rate rises linearly (0)   */
    double       weight_decay; /* Adam: AdamW's decoupled decay, p *= 1 - lr wd
                                  before the update (torch.optim.AdamW); SGD,
                                  RMSprop: L2, g += wd p (their weight_decay);
                                  0 = off                                      */
    int          early_stop;   /* > 0: stop after this many epochs in a row
                                  without a new best loss (ae_best_epoch); the
                                  run is then finished. 0 = off                */
    ae_keep      keep;         /* the weights the model ends with (last)       */
    double       beta;         /* VAE: the KL term's weight, loss = recon +
                                  beta KL (beta-VAE); 1 = the VAE's loss       */
    double       reg_lr;       /* AAE: the learning rate of the discriminator
                                  and generator phases (1e-4, measured: see
                                  README; a schedule and warm-up scale it as
                                  they scale lr)                               */
} ae_train_options;

void ae_train_options_default(ae_train_options *o);
/* For bindings that hold the options as bytes (python/aekit) rather than
 * mirroring the struct: its size (each option's field is at its row's
 * offset, below), and the one field outside the table, the checkpoint
 * path (kept as the pointer given: it must outlive the training call). */
size_t ae_train_options_size(void);
void   ae_train_options_set_checkpoint(ae_train_options *o, const char *path);

/* ---- the training options as data ---------------------------------------------
 * Every field of ae_train_options but `checkpoint` (the file itself) is one
 * row of a table (src/model/train_options.c) that drives the defaults, the
 * checks of ae_train, the command line's flags and their help, how a
 * checkpoint stores the option (aekit.checkpoint.opt.NAME) and the model's
 * metadata (aekit.train.NAME), and whether a resumed run may change it.
 * Adding an option is one row and its field.                               */

typedef enum {
    AE_OPTION_INT,       /* int                                                */
    AE_OPTION_DOUBLE,    /* double                                             */
    AE_OPTION_U64,       /* uint64_t                                           */
    AE_OPTION_CHOICE,    /* an enum (int-sized) named by `choices`             */
    AE_OPTION_NOISE,     /* ae_noise                                           */
    AE_OPTION_SCHEDULE   /* ae_lr_schedule                                     */
} ae_option_type;

typedef enum {
    AE_RESUME_SAME,      /* a resumed run keeps it: another value is refused   */
    AE_RESUME_MAY_CHANGE,/* a resumed run takes the value given               */
    AE_RESUME_UNUSED,    /* only read when a run starts: the run's value stays */
    AE_RESUME_MAY_GROW   /* a resumed run takes a value given that is at least
                            the run's (epochs: extends the run); a smaller one
                            is refused                                         */
} ae_option_resume;

/* Row flags. */
#define AE_OPTION_ZERO_OFF      1  /* 0 is valid too (`zero_means`), besides min..max */
#define AE_OPTION_MAX_EXCLUDED  2  /* the values are [min, max)                      */
#define AE_OPTION_MIN_EXCLUDED  4  /* the values are (min, max]                      */
#define AE_OPTION_NO_CHECKPOINT 8  /* not stored as aekit.checkpoint.opt.NAME (threads:
                                      the state stores the count in use)            */
#define AE_OPTION_NO_META      16  /* not in a model's aekit.train.* metadata       */
#define AE_OPTION_META_UNLESS_DEFAULT 32 /* in the metadata only when not the default:
                                      a model without the key had the default (the
                                      files of runs that leave it alone keep their
                                      bytes); for options of some models only.
                                      Except reg_lr of an AAE of aekit 0.2 (its
                                      aekit.version), before the option: no key,
                                      its phases ran at lr (ae_run_setting_value) */
#define AE_OPTION_SINCE_FORMAT_3 64 /* stored since checkpoint format 3: a format 2
                                      file lacks it and is read with the default,
                                      which is how its run trained; every other
                                      option must be in the file             */

typedef struct {
    const char      *name;      /* opt.NAME in checkpoints, aekit.train.NAME */
    const char      *flag;      /* aekit train's --FLAG, or NULL              */
    const char      *what;      /* in messages: "learning rate"               */
    ae_option_type   type;
    size_t           offset;    /* of its field in ae_train_options           */
    double           def;       /* the default (AE_OPTION_NOISE: none)        */
    double           min, max;  /* the values it takes (numbers, choices)     */
    unsigned         flags;     /* AE_OPTION_* above                          */
    const char      *zero_means;/* AE_OPTION_ZERO_OFF: "none", "all cores"    */
    ae_option_resume resume;
    const char      *metavar;   /* the flag's value in the help: "X", "N"     */
    const char      *def_text;  /* the default as the help shows it           */
    const char      *help;      /* one line                                   */
    const char *const *choices; /* AE_OPTION_CHOICE: names, NULL-terminated  */
} ae_train_option;

/* The rows, *count of them (in the order checkpoints store them); at most
 * AE_MAX_TRAIN_OPTIONS (a checkpoint has room for that many, and a set of
 * rows fits in a 64-bit mask). */
#define AE_MAX_TRAIN_OPTIONS 64
const ae_train_option *ae_train_options_table(int *count);
/* The row named `name` (or whose flag is `name`), or NULL. */
const ae_train_option *ae_train_option_find(const char *name);
/* Checks every option against its row, then what rows cannot say (the
 * checkpoint intervals need a checkpoint file). The message names the
 * option and the values it takes. ae_train and ae_train_resume call it. */
int  ae_train_options_check(const ae_train_options *o, ae_error *err);
/* Checks the options that apply to some models only against model m:
 * beta other than 1 needs a VAE (a sampling layer), reg_lr other than its
 * default an AAE (a discriminator). The message names the option ("option
 * beta ..."). ae_train and ae_train_resume call it. */
int  ae_train_options_check_model(const ae_train_options *o, const ae_model *m, ae_error *err);
/* Checks one option of o against its row. */
int  ae_train_option_check(const ae_train_option *r, const ae_train_options *o, ae_error *err);

/* Text forms of an option's value. EXACT: as checkpoints store it, read
 * back to the same bits (%.17g for doubles); SHORT: as the model's
 * metadata and messages show it (%g; noise as gaussian:MEAN,STD). */
typedef enum { AE_OPTION_TEXT_EXACT = 0, AE_OPTION_TEXT_SHORT = 1 } ae_option_text;
/* Writes option r of o as text into buf (NUL-terminated); returns the
 * length it wanted (snprintf-like). */
size_t ae_train_option_format(const ae_train_option *r, const ae_train_options *o, ae_option_text form,
                              char *buf, size_t size);
/* Reads text (a `form` text) into option r of o; checks it against the row.
 * The message names the option: "learning rate: expected a number, got 'x'". */
int  ae_train_option_parse(const ae_train_option *r, const char *text, ae_option_text form,
                           ae_train_options *o, ae_error *err);
/* 1 when a and b hold the same value of option r as `form` writes it: the
 * same bits (EXACT), or what the model's metadata can tell apart (SHORT:
 * for values known only from a model's aekit.train.* metadata). */
int  ae_train_option_equal(const ae_train_option *r, const ae_train_options *a, const ae_train_options *b,
                           ae_option_text form);
/* 1 when o holds option r's default value (the same bits). */
int  ae_train_option_is_default(const ae_train_option *r, const ae_train_options *o);
/* Copies option r's value from src into dst. */
void ae_train_option_copy(const ae_train_option *r, ae_train_options *dst, const ae_train_options *src);
/* The first option a resumed run keeps (AE_RESUME_SAME) whose value
 * differs (EXACT) between given and stored, or that may only grow
 * (AE_RESUME_MAY_GROW) and is smaller in given, or NULL. */
const ae_train_option *ae_train_options_resume_conflict(const ae_train_options *given,
                                                        const ae_train_options *stored);
/* Sets the model's metadata aekit.train.NAME to the option's SHORT text;
 * for a row flagged AE_OPTION_META_UNLESS_DEFAULT at its default, removes
 * the key instead (a model trained further, from another's weights, keeps
 * none of the other run's value). */
int  ae_train_option_set_meta(ae_model *m, const ae_train_option *r, const ae_train_options *o, ae_error *err);

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
    double lr;                  /* the learning rate of this step (end_of_epoch:
                                   of the epoch's last step)                */
} ae_progress;

/* Return non-zero from the callback to stop training after this step. */
typedef int (*ae_progress_fn)(const ae_progress *p, void *user);

/* Trains m on `train` (validating on `val` after each epoch when not NULL).
 * Image shapes must match the model's input. */
int ae_train(ae_model *m, const ae_dataset *train, const ae_dataset *val,
             const ae_train_options *opt, ae_progress_fn cb, void *user, ae_error *err);

/* ---- training across processes -----------------------------------------------
 * Data-parallel training over `size` processes (ranks), e.g. under mpirun.
 * The library does not use MPI: the caller moves bytes between ranks
 * through these three blocking calls (aekit train implements them with
 * MPI); each returns 0, or -1 when the bytes could not be moved. Calls come
 * from the thread that called ae_train_ranks, in the same order on every
 * rank, so they match the way MPI's point-to-point and broadcast calls do. */
typedef struct {
    int   rank, size;    /* this process, 0 .. size-1, and how many there are */
    void *user;          /* passed to the calls                              */
    /* sends `bytes` bytes to rank `to` / receives as many from rank `from`  */
    int (*send)(void *user, int to, const void *buf, size_t bytes);
    int (*recv)(void *user, int from, void *buf, size_t bytes);
    /* every rank's buf becomes rank root's (`bytes` bytes)                 */
    int (*broadcast)(void *user, int root, void *buf, size_t bytes);
} ae_ranks;

/* ae_train over the ranks of `ranks` (NULL or size 1: ae_train itself). Every
 * rank calls it with the same model, data sets, options and thread count
 * (opt->threads per rank); at the start each rank checks that it does (a
 * hash of the pixels and labels, of the weights and description, and each
 * option), and every rank fails with one message naming the first rank
 * that differs. Each batch is split into size x threads chunks in rank
 * order (rank r's threads take chunks r*threads ..), and the chunks'
 * gradients are added in that order, chained from rank to rank, so the
 * model is bit-identical to one process training with size x threads
 * threads. Validation is split across the ranks by chunks, as across
 * threads. Rank 0 alone writes opt->checkpoint (every rank passes the same
 * options; a checkpoint records size x threads as its thread count); the
 * callback runs on every rank and rank 0's answer stops all of them. An
 * error is returned by every rank with the same message, but for a failed
 * call of `ranks` (whose messages the caller has).                        */
int ae_train_ranks(ae_model *m, const ae_dataset *train, const ae_dataset *val,
                   const ae_train_options *opt, const ae_ranks *ranks,
                   ae_progress_fn cb, void *user, ae_error *err);

/* ---- checkpoints and resuming --------------------------------------------------
 * A checkpoint is a safetensors file holding everything a run needs to go on
 * as if never stopped: the model (weights, description, metadata: it loads
 * with ae_model_load too), the optimiser state (Adam's moments and step
 * count, RMSprop's and SGD's buffers; an AAE's three optimisers), the random
 * number generators, the epoch, step and shuffled order, the per-epoch
 * reports so far, the best epoch's weights (keep best), and the options
 * (docs/file-formats.md). Resuming with the
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
/* 1 when the run has ended: all its epochs are done, or early stopping
 * ended it (early_stop epochs in a row without a new best). With opt: as
 * it would be with opt's epochs and early_stop (what ae_train_resume with
 * opt would do); NULL: the run's own. */
int  ae_train_state_finished(const ae_train_state *s, const ae_train_options *opt);
/* The best epoch so far (ae_best_epoch of the finished epochs' losses), 0
 * before the first. */
int  ae_train_state_best_epoch(const ae_train_state *s);

/* Goes on training the run of `state` (from ae_checkpoint_load, with the
 * model it returned) on the same data sets (checked: counts and contents,
 * the pixels and, for a conditional model, the labels).
 * opt must equal the stored options in everything that shapes the result;
 * only threads, the checkpoint fields and early_stop may differ (another
 * thread count sums gradients in another order: the run is then no longer
 * bit-identical to an uninterrupted one), and epochs may grow: a finished
 * run's final state goes on for the epochs added (cosine's rate depends on
 * epochs: its remaining epochs then follow the new horizon). The state
 * advances with training. */
int  ae_train_resume(ae_model *m, const ae_dataset *train, const ae_dataset *val,
                     const ae_train_options *opt, ae_train_state *state,
                     ae_progress_fn cb, void *user, ae_error *err);

/* Resuming across processes (the ranks of ae_train_ranks; NULL or size 1:
 * ae_checkpoint_load and ae_train_resume themselves). Rank 0 alone reads
 * the checkpoint file and passes its bytes to the other ranks through
 * `ranks`, so they need not see the run's folder; every rank then reads
 * and checks the same checkpoint, and all return the same result (rank 0's
 * message when it could not read the file).                               */
int  ae_checkpoint_load_ranks(const char *path, const ae_ranks *ranks, ae_model **model,
                              ae_train_options *opt, ae_train_state **state, ae_error *err);
/* ae_train_resume across the ranks: every rank passes its loaded state and
 * model, its own data sets (each rank checks them against the checkpoint's
 * counts and hashes) and the same options, opt->threads per rank; the
 * start check and the split are ae_train_ranks'. With ranks x threads equal
 * to the thread count the checkpoint records (opt->threads after
 * ae_checkpoint_load_ranks) the run goes on bit-identically, however it is
 * split between ranks and threads; another count splits each batch into
 * other chunks, whose gradients add in another order: the run goes on, but
 * is bit-identical neither to the one that wrote the checkpoint nor to a
 * run with the new count from the start.                                  */
int  ae_train_resume_ranks(ae_model *m, const ae_dataset *train, const ae_dataset *val,
                           const ae_train_options *opt, ae_train_state *state, const ae_ranks *ranks,
                           ae_progress_fn cb, void *user, ae_error *err);

/* Evaluates on a whole data set: the model's training loss (for a VAE
 * recon + KL, with sampling noise from fixed per-image seeds), MSE per pixel
 * and PSNR in dB (peak 1.0, from the mean MSE) of the output against the
 * clean images. `noise` (may be NULL) corrupts the inputs, as in training a
 * denoiser (from fixed per-image seeds: every model sees the same inputs);
 * super-resolution models get downscaled inputs. ws, threads: as for the
 * inference calls above. Results that are not finite (NaN or infinite loss
 * or MSE) are an error naming the weight tensors that hold NaN or
 * infinities (or saying that none do: an overflow); *out still holds them.
 * PSNR is infinite only for a perfect output. */
typedef struct { double loss, mse, psnr, recon, kl; } ae_eval_result;
/* The seed of the input noise ae_evaluate draws (image i of the set gets
 * stream i); the pictures (aekit/pictures.h) use it too, so that a grid
 * shows the inputs eval measured. */
#define AE_EVAL_NOISE_SEED 0x6576616c6e6f6973ULL
int ae_evaluate(const ae_model *m, ae_workspace *ws, const ae_dataset *ds, const ae_noise *noise,
                ae_eval_result *out, int threads, ae_error *err);
/* ae_evaluate, also writing each image's loss into per_image (ds->n
 * floats; NULL: none): the loss above for that image alone (a VAE's recon
 * + KL of its own sample), so that their mean is out->loss to float
 * precision. Results that are not finite are an error, as for
 * ae_evaluate; per_image then still holds them. */
int ae_evaluate_per_image(const ae_model *m, ae_workspace *ws, const ae_dataset *ds, const ae_noise *noise,
                          ae_eval_result *out, float *per_image, int threads, ae_error *err);

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
