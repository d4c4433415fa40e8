/* aekit manifold: a grid sweeping a 2-D latent plane, decoded (the lesson's
 * 10x10 VAE figure). */
#include "cli.h"
#include "image_outputs.h"
#include "aekit/pictures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GRID 50

static const arg_flag manifold_flags[] = {
    CLI_FLAGS_MODEL,
    { "grid",    "N",           "10", "images per side", 0, 1, MAX_GRID },
    { "range",   "LO,HI|auto",  "-1,1 (VAE, AAE); auto (other models)",
      "latent values swept on both axes; auto = mean +- 2 std of the codes (VAE/AAE: of the prior)", 0, 0, 0 },
    { "out",     "FILE",        "manifold.png", "PNG to write", 0, 0, 0 },
    { "label",   "K|all",       "none", "conditional models (cvae): the class to draw, 0 to the model's classes - 1; "
      "all: a manifold per class", 0, 0, 255 },
    ARGS_FLAG_NPY,
    ARGS_FLAG_THREADS,
    { NULL, NULL, NULL, NULL, 0, 0, 0 }
};

static void manifold_more_help(FILE *out)
{
    fprintf(out, "Needs a model with a 2-D latent (--latent 2). Column j decodes\n"
                 "z0 = linspace(LO, HI, N)[j], row i has z1 = linspace(LO, HI, N)[i]: z0 grows\n"
                 "left to right and z1 top to bottom, as in the lesson's figure. A conditional\n"
                 "model (cvae) decodes the plane as the class --label K, or draws a manifold per\n"
                 "class with --label all (blocks of 5 a row, class 0 top left).\n");
}

const arg_command manifold_command = {
    .name = "manifold",
    .summary = "decode a grid over a 2-D latent plane",
    .usage = "aekit manifold MODEL [--grid N] [--range LO,HI|auto] [--label K|all] [--out FILE.png] [--npy FILE.npy]",
    .positional = "MODEL",
    .flags = manifold_flags,
    .examples = "  aekit manifold runs/vae/model.safetensors --grid 10 --range -1,1 --out manifold.png\n"
                "  aekit manifold runs/vae/model.safetensors --grid 20 --range -3,3 --out wide.png\n"
                "  aekit manifold runs/cvae/model.safetensors --label 7 --out sevens.png\n"
                "  aekit manifold runs/cvae/model.safetensors --label all --grid 6 --out classes.png\n",
    .more_help = manifold_more_help,
};

int cmd_manifold(int argc, char **argv)
{
    args a;
    int rc = args_parse(&a, &manifold_command, argc, argv);
    if (rc) return rc;
    if (a.help) { args_print_help(&manifold_command, stdout); return EXIT_OK; }

    const char *path = a.positional[0], *range, *out, *npy;
    int grid, threads;
    if ((rc = args_int(&a, "grid", 10, &grid)) ||
        (rc = args_string(&a, "range", NULL, &range)) ||
        (rc = image_outputs_parse(&a, "manifold.png", &out, &npy)) ||
        (rc = args_threads(&a, 0, &threads)))
        return rc;
    double lo[2], hi[2];
    int automatic = range && strcmp(range, "auto") == 0;
    if (range && !automatic) {
        if ((rc = cli_parse_range("manifold", "--range", range, &lo[0], &hi[0]))) return rc;
        lo[1] = lo[0];
        hi[1] = hi[0];
    }
    cli_file in[] = { { "MODEL", path, 0 } }, outs[] = { { "--out", out, 0 }, { "--npy", npy, 0 } };
    if ((rc = cli_check_io("manifold", in, 1, outs, 2, NULL))) return rc;

    ae_model *m = NULL;
    if ((rc = cli_load_model("manifold", &a, path, &m))) return rc;
    size_t L = ae_model_latent_size(m);
    int label;
    if ((rc = cli_model_label("manifold", &a, path, m, 1, &label))) {
        ae_model_free(m);
        return rc;
    }
    if (L != 2) {
        ae_model_free(m);
        return cli_fail(EXIT_ERROR, "manifold", "%s: the latent has %zu values, but a manifold sweeps "
                        "a 2-D latent (train one with --latent 2; for other sizes see aekit scatter "
                        "or aekit sample)", path, L);
    }
    if (!range) {
        ae_picture_manifold_range(m, lo, hi);
    } else if (automatic) {
        ae_picture_manifold_range(m, lo, hi);
        if (ae_model_is_variational(m) || ae_model_is_adversarial(m)) {
            lo[0] = lo[1] = -2.0;   /* the prior N(0, I): mean +- 2 std */
            hi[0] = hi[1] = 2.0;
        }
    }
    args_print_notes();
    ae_error err = {{0}};
    int c, h, w;
    ae_model_output_shape(m, &c, &h, &w);
    float *images = NULL;
    int all = label == CLI_LABEL_ALL, count = (all ? ae_model_class_count(m) : 1) * grid * grid;
    rc = cli_result("manifold", all ? ae_picture_class_manifolds_images(m, grid, lo, hi, threads, &images, &err)
                                    : ae_picture_manifold_images_label(m, grid, lo, hi, label, threads, &images, &err),
                    &err);
    if (rc == 0) {
        ae_atomic_group g;
        ae_atomic_group_begin(&g);
        int drawn = !out ? 0
                    : all ? ae_picture_class_manifolds_png(out, images, ae_model_class_count(m), grid, c, h, w, &err)
                          : ae_picture_manifold_png(out, images, grid, c, h, w, &err);
        rc = image_outputs_commit("manifold", &g, drawn, &err, npy, images, count, c, h, w);
    }
    if (rc == 0) {
        char as[64] = "";
        if (label >= 0) snprintf(as, sizeof as, " as class %d", label);
        if (all) snprintf(as, sizeof as, " per class (%d classes, class after class)", ae_model_class_count(m));
        printf("%s: %dx%d decoded latents%s, z0 from %.4g to %.4g (left to right), z1 from %.4g to %.4g "
               "(top to bottom)\n", cli_text(out ? out : npy), grid, grid, as, lo[0], hi[0], lo[1], hi[1]);
        image_outputs_print_npy(npy, count, c, h, w);
    }
    free(images);
    ae_model_free(m);
    return rc;
}
