/* libFuzzer harness: the model description parser (src/model/description.c, build.c)
 * through ae_model_from_text.
 *
 * The input is the description text (NUL-terminated copy). When it parses:
 * parameter count, summary (into a small and a large buffer), and for small
 * models (input at most 64x64x3, fewer than 1M parameters, and a bounded
 * amount of arithmetic, so that executions stay fast) one forward pass of a
 * zero image with ae_model_reconstruct, and a save / load round trip that
 * must give the same model. */
#include "fuzz_common.h"

#include <math.h>

#include "aekit.h"
#include "model/model.h"

/* Rough multiply-adds of one forward pass of one image. */
static double forward_cost(const ae_model *m)
{
    double cost = 0;
    for (int i = 0; i < m->nlayers; i++) {
        const ae_layer *l = &m->layers[i];
        if (l->kind == L_CONV)
            cost += (double)l->out_size * l->k * l->k * l->in_c;
        else if (l->kind == L_DENSE)
            cost += (double)l->w_count;
        else
            cost += (double)l->out_size + (double)l->in_size * (l->kind == L_MAXPOOL || l->kind == L_AVGPOOL ? l->k : 1);
    }
    return cost;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) abort();
    memcpy(text, data, size);
    text[size] = '\0';

    ae_error err;
    ae_model *m;
    if (ae_model_from_text(&m, text, "fuzz", 0, &err) != 0) {
        if (!err.msg[0]) abort();
        free(text);
        return 0;
    }
    size_t np = ae_model_param_count(m);
    /* the canonical text (what a model file carries) parses to the same
     * model and prints as itself: the description round trip */
    ae_model *again;
    if (ae_model_from_text(&again, ae_model_description(m), "fuzz (printed)", 0, &err) != 0) {
        fprintf(stderr, "the printed description does not parse: %s\n", err.msg);
        abort();
    }
    if (!description_equal(&again->desc, &m->desc) ||
        strcmp(ae_model_description(again), ae_model_description(m)) != 0) {
        fprintf(stderr, "the printed description is another description:\n%s\n", ae_model_description(m));
        abort();
    }
    ae_model_free(again);
    char small[16], big[8192];
    size_t want = ae_model_summary(m, small, sizeof small);
    if (strlen(small) >= sizeof small) abort();
    size_t want2 = ae_model_summary(m, big, sizeof big);
    if (want != want2) abort();
    if (want < sizeof big && strlen(big) != want) abort();

    int c, h, w, oc, oh, ow;
    ae_model_input_shape(m, &c, &h, &w);
    ae_model_output_shape(m, &oc, &oh, &ow);
    if (c <= 3 && h <= 64 && w <= 64 && np < 1000000 && m->act_per_image <= (1u << 22) &&
        forward_cost(m) < 2e7) {
        size_t in = (size_t)c * h * w, out = (size_t)oc * oh * ow;
        float *x = calloc(in, sizeof *x), *y = malloc(out * sizeof *y);
        if (!x || !y) abort();
        if (ae_model_reconstruct(m, NULL, x, 1, y, 1, &err) == 0) {
            for (size_t i = 0; i < out; i++)
                if (!(y[i] == y[i])) {
                    fprintf(stderr, "NaN in the output of a freshly initialised model\n");
                    abort();
                }
        } else if (!err.msg[0]) {
            abort();
        }
        free(x);
        free(y);

        /* the saved description must build the same model again */
        static char path[300];
        if (!path[0]) fz_path(path, sizeof path, "model.safetensors");
        if (ae_model_save(m, path, &err) != 0) {
            fprintf(stderr, "save failed: %s\n", err.msg);
            abort();
        }
        ae_model *back;
        if (ae_model_load(&back, path, &err) != 0) {
            fprintf(stderr, "a saved model does not load: %s\n", err.msg);
            abort();
        }
        if (ae_model_param_count(back) != np ||
            memcmp(back->params, m->params, np * sizeof(float)) != 0) abort();
        ae_model_free(back);
    }
    ae_model_free(m);
    free(text);
    return 0;
}
