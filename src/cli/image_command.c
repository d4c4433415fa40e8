/* The command line of denoise and upscale (cli/image_command.h). */
#include "image_command.h"
#include "image_outputs.h"
#include "cli.h"
#include "aekit/pictures.h"

#include <stdio.h>
#include <string.h>

int image_command_parse(const arg_command *cmd, const char *default_out, int argc, char **argv,
                        image_command_args *o)
{
    const char *name = cmd->name;
    memset(o, 0, sizeof *o);
    args a;
    int rc = args_parse(&a, cmd, argc, argv);
    if (rc) return rc;
    if (a.help) {
        args_print_help(cmd, stdout);
        return EXIT_OK;
    }
    /* args_parse allows 1 to 3 words: MODEL alone or MODEL IN.png OUT.png
     * (MODEL IN.png when --npy takes the output) */
    if (a.npositional == 2 && !args_given(&a, "npy"))
        return cli_fail(EXIT_USAGE, name, "missing OUT.png (usage: %s)", cmd->usage);
    int file_mode = a.npositional >= 2;

    o->model_path = a.positional[0];
    if ((rc = args_string(&a, "data", NULL, &o->data)) ||
        (rc = args_string(&a, "noise", NULL, &o->noise_text)) ||
        (rc = args_int(&a, "n", 10, &o->n)) ||
        (rc = args_int(&a, "cols", AE_PICTURE_COLS, &o->cols)) ||
        (rc = image_outputs_parse(&a, default_out, &o->out, &o->npy)) ||
        (rc = args_threads(&a, 0, &o->threads)))
        return rc;
    if (o->noise_text && (rc = cli_parse_noise(name, "--noise", o->noise_text, &o->nz))) return rc;
    if (file_mode) {
        const char *extra = args_given(&a, "data") ? "--data" : args_given(&a, "n") ? "--n"
                          : args_given(&a, "cols") ? "--cols" : args_given(&a, "out") ? "--out" : NULL;
        if (extra)
            return cli_fail(EXIT_USAGE, name, "%s: not used with IN.png OUT.png (one image in, "
                            "one image out)", extra);
        o->in = a.positional[1];
        o->out_file = a.npositional == 3 ? a.positional[2] : NULL;
        o->out = NULL;
    }
    cli_file in[] = { { "MODEL", o->model_path, 0 }, { "IN.png", o->in, 0 } };
    cli_file out[] = { file_mode ? (cli_file){ "OUT.png", o->out_file, 0 } : (cli_file){ "--out", o->out, 0 },
                       { "--npy", o->npy, 0 } };
    if ((rc = cli_check_io(name, in, 2, out, 2, o->data))) return rc;
    if ((rc = cli_load_model(name, &a, o->model_path, &o->m))) o->m = NULL; /* "done" to the caller */
    return rc;
}
