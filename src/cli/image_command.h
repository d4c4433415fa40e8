/* The command line shared by the image-to-image commands (denoise,
 * upscale): MODEL, then either pictures of test images (--data, --n, --out)
 * or IN.png OUT.png (one image in, one out; IN.png alone with --npy);
 * --noise, --npy and --threads for both.
 * One parser, so that the two commands take and check their flags alike. */
#ifndef AEKIT_CLI_IMAGE_COMMAND_H
#define AEKIT_CLI_IMAGE_COMMAND_H

#include "aekit.h"
#include "args.h"

typedef struct {
    const char *model_path;     /* MODEL */
    const char *in, *out_file;  /* IN.png OUT.png; both NULL for test-set pictures;
                                   out_file NULL for IN.png --npy FILE */
    const char *data;           /* --data, or NULL */
    const char *noise_text;     /* --noise, or NULL */
    const char *out;            /* --out (test-set pictures); NULL for --npy alone */
    const char *npy;            /* --npy, or NULL */
    int         n, cols, threads; /* --n (at most IMAGE_COMMAND_MAX_N), --cols, --threads */
    ae_noise    nz;             /* --noise parsed; zeroed when not given */
    ae_model   *m;              /* the model, loaded; the caller frees it */
} image_command_args;

#define IMAGE_COMMAND_MAX_N 500

/* Parses and checks the command line of cmd (flags data, noise, n, out,
 * npy, threads, cols; --out defaults to default_out, as image_outputs_parse
 * says) and loads the model. Returns 0
 * with o->m set, or the exit code with o->m NULL: a usage or load error, or
 * EXIT_OK after printing --help. */
int image_command_parse(const arg_command *cmd, const char *default_out, int argc, char **argv,
                        image_command_args *o);

#endif
