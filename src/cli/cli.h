/* The aekit command-line tool: the subcommands and the few helpers they
 * share. Only the CLI prints, and it chooses the exit codes:
 *   0 success, 2 usage error (command, flag or value), 1 any other error.
 * Every error is one line on stderr: "aekit COMMAND: what went wrong".   */
#ifndef AEKIT_CLI_CLI_H
#define AEKIT_CLI_CLI_H

#include <stddef.h>
#include "aekit.h"
#include "args.h"

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2 };

/* Subcommands: argv holds the words after the command name. */
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_reconstruct(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_denoise(int argc, char **argv);
int cmd_upscale(int argc, char **argv);
int cmd_encode(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_manifold(int argc, char **argv);
int cmd_scatter(int argc, char **argv);
int cmd_perturb(int argc, char **argv);
int cmd_interpolate(int argc, char **argv);
int cmd_pca(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_fit_latent(int argc, char **argv);

extern const arg_command train_command, eval_command, reconstruct_command, info_command,
    denoise_command, upscale_command, encode_command, decode_command, sample_command,
    manifold_command, scatter_command, perturb_command, interpolate_command, pca_command,
    compare_command, serve_command, fit_latent_command;

#if defined(__GNUC__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

/* Prints "aekit CMD: message" (or "aekit: message" when cmd is NULL) as one
 * line on stderr (control characters in the message escaped, as cli_text
 * does: file names and library messages may quote a file's text) and
 * returns `code`, so callers write `return cli_fail(EXIT_ERROR, "train", ...)`. */
int cli_fail(int code, const char *cmd, const char *fmt, ...) CLI_PRINTF(3, 4);
/* From now on cli_fail keeps its line (the message alone) in buf instead of
 * printing it (a process of an mpirun job that is not rank 0); NULL: print. */
void cli_errors_to(char *buf, size_t size);

/* Text from files (metadata, data set and class names, tensor names) or the
 * command line, made safe to print on a terminal: control characters become
 * \n, \r, \t, \e or \xNN, the C1 controls and the Unicode ones that move or
 * reorder text (line separators, bidirectional overrides) \uNNNN, bytes that
 * are not UTF-8 \xNN; printable UTF-8 is kept. So a file cannot move the
 * cursor, recolour the terminal or forge lines of output.
 * cli_escape writes into buf (cut with "..." when it does not fit);
 * cli_text returns one of CLI_TEXT_SLOTS static buffers of CLI_TEXT_MAX
 * bytes, reused in turn: at most that many calls in one printf.            */
#define CLI_TEXT_SLOTS 8
#define CLI_TEXT_MAX   8192
void        cli_escape(char *buf, size_t size, const char *s);
const char *cli_text(const char *s);
/* 1 for the code points cli_escape and eval --json print escaped: the C0
 * and C1 controls, DEL, and the characters that move or reorder text
 * (U+061C, U+200E, U+200F, U+2028 to U+202E, U+2066 to U+2069). */
int cli_char_escaped(unsigned cp);

/* Writes n with thousands separators ("12,345") into buf. */
const char *cli_count(double n, char *buf, size_t size);

/* For results of model_path's model that are not finite (`what`: "its codes
 * hold NaN or infinite values"): prints the error naming the weight tensors
 * that hold NaN or infinities, or saying that none do (an overflow), and
 * returns 1. */
int cli_fail_nonfinite(const char *cmd, const char *model_path, const ae_model *m, const char *what);

/* "did you mean": writes "did you mean 'PREFIXNAME'? " into buf for the
 * name of names[0..n) nearest to word (its first len bytes;
 * ae_nearest_name), or "" without one, and returns buf (for messages:
 * "unknown flag '--epoch' (did you mean '--epochs'? see ...)"). */
const char *cli_did_you_mean(char *buf, size_t size, const char *prefix, const char *word, size_t len,
                             const char *const *names, int n);

/* The stages of a long command (compare, pca) on stderr: cli_stage starts
 * the next one ("fitting the PCA"); once a stage has run 0.5 s a terminal
 * shows "aekit CMD: STAGE... N s" on one line, rewritten every second and
 * erased when the stage ends; other stderr gets one line "aekit CMD:
 * STAGE..." for each stage that runs 2 s or more (AEKIT_STAGE_SECONDS
 * overrides both delays). cli_stages_done ends the last one (cli_fail calls
 * it, so that a terminal's stage line is erased before the error); call it
 * before printing results. */
void cli_stage(const char *cmd, const char *fmt, ...) CLI_PRINTF(2, 3);
void cli_stages_done(void);

/* A library message with each "option NAME" (a training option, as the
 * library and Python name it) that has a flag written as its flag "--FLAG",
 * into buf (cut to size). */
void cli_option_flags(char *buf, size_t size, const char *msg);

/* The flags of every command that reads a MODEL file (the one list: the
 * commands whose table has these rows), read by cli_load_model: --model
 * reads a file without an aekit description, e.g. a custom nn.Module's
 * state_dict saved by PyTorch, as the model a preset or a description file
 * describes. */
#define CLI_FLAGS_MODEL                                                                              \
    { "model",  "NAME|FILE", "the file's own description, or the preset its tensors match",          \
      "read MODEL as this model preset or description file (docs/model-format.md)", 0, 0, 0 },      \
    { "latent", "N", "the description's default",                                                     \
      "latent size of the --model description's {latent}", 0, 1, AE_MAX_LATENT }

/* --label K: the class a conditional model (ae_model_class_count) draws. */
#define CLI_FLAG_LABEL                                                                               \
    { "label", "K", "none", "conditional models (cvae): the class to draw, 0 to the model's classes - 1", \
      0, 0, 255 }
/* The --label of a (its table holding CLI_FLAG_LABEL, or a row of that
 * range taking `all` too) for model m read from path: *label the class for
 * a conditional model (--label required, below its class count; `all`:
 * CLI_LABEL_ALL, when allow_all), -1 for another model (--label refused).
 * Prints the error and returns the exit code. */
#define CLI_LABEL_ALL (-2)
int cli_model_label(const char *cmd, const args *a, const char *path, const ae_model *m, int allow_all,
                    int *label);

/* For the commands that have no labels to give a conditional model
 * (interpolate, compare, serve, denoise / upscale of an image file): 0 for
 * another model, else the error printed and its exit code. */
int cli_refuse_conditional(const char *cmd, const char *path, const ae_model *m);

/* Loads MODEL from path, as the model of --model / --latent when a (the
 * command's parsed flags, its table holding CLI_FLAGS_MODEL) gives them; a
 * NULL: the file as it is. Prints the error and returns the exit code on
 * failure (a mismatch names the first tensor that differs). */
int cli_load_model(const char *cmd, const args *a, const char *path, ae_model **out);
/* Builds the model a preset (`preset`, when not NULL) or the description
 * file `spec` describes, with `latent` (0: the default); a --latent the
 * description does not take is a usage error. */
int cli_build_model(const char *cmd, const char *spec, const char *preset, int latent, ae_model **out);

/* Opens the test split of `data` (limited to the first `limit` images when
 * limit > 0) and checks its image shape against the model's. */
int cli_open_test_set(const char *cmd, const char *data, int limit,
                      const ae_model *m, ae_dataset **out);
/* Opens a split of `data` for model m: image folders are fitted to the
 * model's output shape (the images a model is trained to produce; a
 * super-resolution model's input is made from them). limit > 0 keeps the
 * first `limit` images. m may be NULL (no shape check; image folders are
 * then read at 1x28x28 unless size is given: c, h, w or NULL). */
int cli_open_data(const char *cmd, const char *data, ae_split split, int limit,
                  const ae_model *m, const int *size, ae_dataset **out);

/* Checks that a data set's images have the model's output shape (the
 * input shape, except for super-resolution models). */
int cli_check_shape(const char *cmd, const char *data, const ae_dataset *ds,
                    const ae_model *m);

/* A file a command reads or writes, for cli_check_io: the flag or argument
 * naming it ("--out", "MODEL"), its path (NULL: none) and, for an output
 * folder (train --out, pca --out), folder = 1. */
typedef struct {
    const char *what;
    const char *path;
    int         folder;
} cli_file;

/* The checks of a command's files, before any work; exit 1 on a refusal,
 * naming the file as given:
 *  - an output file's folder exists, and the output may replace what is at
 *    its path: nothing, a file, or a symlink to a file or to nothing (not a
 *    folder, device, FIFO or socket, or a link to one);
 *  - no output is an input (the same file by device and inode, or the
 *    input's symlink), no two outputs are one file;
 *  - no output lies inside the folder of data set `data` (a name or a
 *    path), which aekit only reads; NULL when not known yet (cli_data_for
 *    checks the data set a model names). */
int cli_check_io(const char *cmd, const cli_file *inputs, int nin, const cli_file *outputs, int nout,
                 const char *data);

/* The data set a model was trained on (its metadata), or NULL. */
const char *cli_model_data(const ae_model *m);
/* --data when given, else the model's training data set (a usage error
 * naming model_path when neither is known), whose folder then must not
 * hold any of the outputs (as in cli_check_io). */
int cli_data_for(const char *cmd, const char *given, const ae_model *m, const char *model_path,
                 const cli_file *outputs, int nout, const char **out);

/* Parses a --noise value (gaussian:MEAN,STD, saltpepper:P, none); a bad
 * one is a usage error naming `flag`. */
int cli_parse_noise(const char *cmd, const char *flag, const char *text, ae_noise *nz);
/* The noise a model was trained with (aekit.train.noise), or none. */
void cli_model_noise(const ae_model *m, ae_noise *nz);

/* The library's ae_dataset_images and ae_dataset_codes (aekit/pictures.h),
 * printing the error: NULL after printing it. */
float *cli_images(const char *cmd, const ae_dataset *ds, int first, int n);
float *cli_encode_set(const char *cmd, ae_model *m, const ae_dataset *ds, int n, int threads);
/* The result rc of a library call that reports into err: 0, or the error
 * printed ("aekit CMD: ...") and exit code 1. */
int cli_result(const char *cmd, int rc, const ae_error *err);
/* Reads a PNG or JPEG file with the model's input channels and checks its
 * size against the model's input: CHW floats in [0, 1], caller frees. */
int cli_read_image(const char *cmd, const char *path, const ae_model *m, float **out);

/* Runs the model on one image file: in_path (PNG or JPEG of the model's
 * input size, corrupted by nz when not NULL) -> out_path (PNG of the
 * output size, one pixel per pixel; NULL: none) and npy_path (its floats,
 * shape (1, C, H, W); NULL: none), both written or neither. */
int cli_apply_file(const char *cmd, ae_model *m, const char *in_path, const char *out_path,
                   const char *npy_path, const ae_noise *nz, int threads);

/* mkdir -p for an --out folder. */
int cli_make_dirs(const char *cmd, const char *dir);
/* dir + "/" + name into buf. */
void cli_join_path(char *buf, size_t size, const char *dir, const char *name);

/* Parses "LO,HI" (LO < HI, both finite as floats and distinct as floats);
 * a usage error naming `flag`. */
int cli_parse_range(const char *cmd, const char *flag, const char *text, double *lo, double *hi);

/* Seconds on a monotonic clock. */
double cli_now(void);

#endif
