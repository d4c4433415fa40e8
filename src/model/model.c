/* Model lifetime, initialisation, presets, metadata and summary. */
#define _POSIX_C_SOURCE 200809L
#include "model/model.h"
#include "model/layer_kinds.h"
#include "core/error.h"
#include "core/rng.h"
#include "aekit/text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* generated from the files in models/ by cmake/embed_presets.cmake */
extern const char *const ae_preset_names[];
extern const char *const ae_preset_texts[];

const char *const *ae_model_presets(void) { return ae_preset_names; }

int ae_model_from_text(ae_model **out, const char *text, const char *origin, int latent, ae_error *err)
{
    *out = NULL;
    ae_model *m = calloc(1, sizeof *m);
    if (!m) return ae_fail(err, "%s: out of memory", origin);
    if (model_parse(m, text, origin, latent, err)) {
        free(m);
        return -1;
    }
    if (model_alloc_params(m)) {
        size_t nparams = m->nparams;   /* the message is written after m is freed */
        ae_model_free(m);
        return ae_fail(err, "%s: out of memory for %zu parameters", origin, nparams);
    }
    ae_model_init(m, 0);
    *out = m;
    return 0;
}

int ae_model_from_preset(ae_model **out, const char *name, int latent, ae_error *err)
{
    for (int i = 0; ae_preset_names[i]; i++)
        if (strcmp(ae_preset_names[i], name) == 0) {
            char origin[128];
            snprintf(origin, sizeof origin, "preset %s", name);
            return ae_model_from_text(out, ae_preset_texts[i], origin, latent, err);
        }
    char list[512] = "";
    for (int i = 0; ae_preset_names[i]; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, ae_preset_names[i], sizeof list - strlen(list) - 1);
    }
    *out = NULL;
    int n = 0;
    while (ae_preset_names[n]) n++;
    const char *near = ae_nearest_name(name, strlen(name), ae_preset_names, n);
    return ae_fail(err, "unknown model preset '%s' (%s%s%spresets: %s; or give a model description file)", name,
                   near ? "did you mean '" : "", near ? near : "", near ? "'? " : "", list);
}

void ae_model_init(ae_model *m, uint64_t seed)
{
    /* Glorot-uniform weights and zero biases: Keras' defaults, which the
     * lesson's reference losses were produced with. */
    ae_rng rng;
    ae_rng_seed(&rng, seed);
    for (int i = 0; i < m->nlayers; i++) {
        ae_layer *l = &m->layers[i];
        if (!l->w_count) continue;
        double fan_in, fan_out;
        layer_kinds[l->kind].fans(l, &fan_in, &fan_out);
        float limit = (float)sqrt(6.0 / (fan_in + fan_out));
        for (size_t j = 0; j < l->w_count; j++)
            m->params[l->w_off + j] = (2.0f * ae_rng_uniform(&rng) - 1.0f) * limit;
        memset(m->params + l->b_off, 0, l->b_count * sizeof(float));
    }
}

size_t model_first_nonfinite(const float *x, size_t lo, size_t hi)
{
    uint32_t any = 0;   /* integer test of the exponent bits: vectorises */
    for (size_t i = lo; i < hi; i++) {
        uint32_t b;
        memcpy(&b, x + i, sizeof b);
        any |= (uint32_t)((b & 0x7f800000u) == 0x7f800000u);
    }
    if (!any) return hi;
    for (size_t i = lo; i < hi; i++)
        if (!isfinite(x[i])) return i;
    return hi;
}

int model_param_tensor(const ae_model *m, size_t i, char *buf, size_t size, size_t *at)
{
    for (int k = 0; k < m->nlayers; k++) {
        const ae_layer *l = &m->layers[k];
        for (int bias = 0; bias < 2; bias++) {
            size_t off = bias ? l->b_off : l->w_off, count = bias ? l->b_count : l->w_count;
            if (count && i >= off && i < off + count) {
                model_tensor_name(l, bias ? "bias" : "weight", buf, size);
                *at = i - off;
                return k;
            }
        }
    }
    return -1;
}

int ae_model_nonfinite_tensors(const ae_model *m, char *buf, size_t size)
{
    enum { NAMED = 4 };     /* names listed before "and N more" */
    int count = 0;
    size_t used = 0;
    if (size) buf[0] = '\0';
    for (int i = 0; i < m->nlayers; i++) {
        const ae_layer *l = &m->layers[i];
        const struct { const char *what; size_t off, count; } t[2] = {
            { "weight", l->w_off, l->w_count }, { "bias", l->b_off, l->b_count } };
        for (int k = 0; k < 2; k++) {
            size_t end = t[k].off + t[k].count;
            if (model_first_nonfinite(m->params, t[k].off, end) == end) continue;
            if (++count > NAMED) continue;
            char name[64];
            model_tensor_name(l, t[k].what, name, sizeof name);
            if (used < size)
                used += (size_t)snprintf(buf + used, size - used, "%s%s", count > 1 ? ", " : "", name);
        }
    }
    if (count > NAMED && used < size)
        snprintf(buf + used, size - used, " and %d more", count - NAMED);
    return count;
}

void ae_model_free(ae_model *m)
{
    if (!m) return;
    for (int i = 0; i < m->nmeta; i++) {
        free(m->meta_keys[i]);
        free(m->meta_vals[i]);
    }
    free(m->meta_keys);
    free(m->meta_vals);
    free(m->params);
    free(m->layers);
    free(m->description);
    description_free(&m->desc);
    free(m);
}

size_t ae_model_param_count(const ae_model *m) { return m->nparams; }

void ae_model_input_shape(const ae_model *m, int *c, int *h, int *w)
{
    if (c) *c = m->in_c;
    if (h) *h = m->in_h;
    if (w) *w = m->in_w;
}

void ae_model_output_shape(const ae_model *m, int *c, int *h, int *w)
{
    if (c) *c = m->out_c;
    if (h) *h = m->out_h;
    if (w) *w = m->out_w;
}

int model_alloc_params(ae_model *m)
{
    m->params = calloc(m->nparams + model_read_slack(m), sizeof(float));
    return m->params ? 0 : -1;
}

size_t model_read_slack(const ae_model *m) { return dense_read_slack(m->max_act); }

size_t ae_model_latent_size(const ae_model *m) { return m->layers[m->n_encoder - 1].out_size; }

void ae_model_latent_layout(const ae_model *m, int *c, int *h, int *w)
{
    const ae_layer *l = &m->layers[m->n_encoder - 1];
    *c = l->out_c;
    *h = l->out_h;
    *w = l->out_w;
}
int ae_model_is_variational(const ae_model *m) { return m->sample_layer >= 0; }
int ae_model_is_adversarial(const ae_model *m) { return m->n_autoencoder < m->nlayers; }

const char *ae_model_description(const ae_model *m) { return m->description; }

size_t ae_model_summary(const ae_model *m, char *buf, size_t size)
{
    size_t used = 0;
#define EMIT(...)                                                                  \
    do {                                                                           \
        int n_ = snprintf(used < size ? buf + used : NULL, used < size ? size - used : 0, __VA_ARGS__); \
        if (n_ > 0) used += (size_t)n_;                                            \
    } while (0)
    EMIT("%-16s %-12s %-16s %10s\n", "tensor", "layer", "output", "params");
    char shape[64];
    snprintf(shape, sizeof shape, "%dx%dx%d", m->in_c, m->in_h, m->in_w);
    EMIT("%-16s %-12s %-16s %10s\n", "", "input", shape, "");
    for (int i = 0; i < m->nlayers; i++) {
        const ae_layer *l = &m->layers[i];
        char name[64];
        snprintf(name, sizeof name, "%s.%d", description_part_name(l->part), l->index);
        snprintf(shape, sizeof shape, "%dx%dx%d", l->out_c, l->out_h, l->out_w);
        EMIT("%-16s %-12s %-16s %10zu\n", name, layer_kinds[l->kind].name, shape, l->w_count + l->b_count);
        if (i == m->n_encoder - 1)
            EMIT("%-16s latent: %zu values per image%s\n", "", l->out_size,
                 m->sample_layer >= 0 ? " (z; the layer before holds mean and log-variance)" : "");
    }
    EMIT("total parameters: %zu\n", m->nparams);
#undef EMIT
    return used;
}

ae_loss ae_model_loss(const ae_model *m) { return m->loss; }

int ae_model_set_loss(ae_model *m, ae_loss loss, ae_error *err)
{
    if (loss < AE_LOSS_BCE || loss > AE_LOSS_BCE_SUM) return ae_fail(err, "unknown loss %d", (int)loss);
    if ((loss == AE_LOSS_BCE || loss == AE_LOSS_BCE_SUM) && m->layers[m->n_autoencoder - 1].kind != L_SIGMOID)
        return ae_fail(err, "%s: a BCE loss needs the decoder to end with sigmoid", m->origin);
    /* the structure changes, then the model and its text follow from it;
     * all or nothing: when they cannot, the structure changes back */
    ae_loss old = m->desc.loss;
    int added;
    if (description_set_loss(&m->desc, loss, &added)) return ae_fail(err, "out of memory");
    if (model_build(m, m->origin, err)) {
        description_undo_set_loss(&m->desc, old, added);
        return -1;
    }
    return 0;
}

int ae_model_meta_count(const ae_model *m) { return m->nmeta; }

void ae_model_meta_at(const ae_model *m, int i, const char **key, const char **value)
{
    int ok = i >= 0 && i < m->nmeta;
    if (key) *key = ok ? m->meta_keys[i] : NULL;
    if (value) *value = ok ? m->meta_vals[i] : NULL;
}

const char *ae_model_meta(const ae_model *m, const char *key)
{
    for (int i = 0; i < m->nmeta; i++)
        if (strcmp(m->meta_keys[i], key) == 0) return m->meta_vals[i];
    return NULL;
}

void model_remove_meta(ae_model *m, const char *key)
{
    for (int i = 0; i < m->nmeta; i++)
        if (strcmp(m->meta_keys[i], key) == 0) {
            free(m->meta_keys[i]);
            free(m->meta_vals[i]);
            memmove(m->meta_keys + i, m->meta_keys + i + 1, (size_t)(m->nmeta - i - 1) * sizeof *m->meta_keys);
            memmove(m->meta_vals + i, m->meta_vals + i + 1, (size_t)(m->nmeta - i - 1) * sizeof *m->meta_vals);
            m->nmeta--;
            return;
        }
}

int ae_model_set_meta(ae_model *m, const char *key, const char *value, ae_error *err)
{
    for (int i = 0; i < m->nmeta; i++)
        if (strcmp(m->meta_keys[i], key) == 0) {
            char *v = strdup(value);
            if (!v) return ae_fail(err, "out of memory");
            free(m->meta_vals[i]);
            m->meta_vals[i] = v;
            return 0;
        }
    char **k2 = realloc(m->meta_keys, (size_t)(m->nmeta + 1) * sizeof *k2);
    if (!k2) return ae_fail(err, "out of memory");
    m->meta_keys = k2;
    char **v2 = realloc(m->meta_vals, (size_t)(m->nmeta + 1) * sizeof *v2);
    if (!v2) return ae_fail(err, "out of memory");
    m->meta_vals = v2;
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return ae_fail(err, "out of memory");
    }
    m->meta_keys[m->nmeta] = k;
    m->meta_vals[m->nmeta] = v;
    m->nmeta++;
    return 0;
}
