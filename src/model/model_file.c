/* Model files: safetensors with PyTorch state_dict names (encoder.N.weight,
 * decoder.N.bias, ...), the model description and training metadata in
 * __metadata__. Files without a description (saved from PyTorch) are
 * matched against the presets by tensor names and shapes. */
#include "model/model.h"
#include "core/error.h"
#include "format/safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define META_DESCRIPTION "aekit.description"
#define META_VERSION "aekit.version"

int ae_model_save(const ae_model *m, const char *path, ae_error *err)
{
    int ntensors = 0;
    for (int i = 0; i < m->nlayers; i++)
        ntensors += (m->layers[i].w_count > 0) + (m->layers[i].b_count > 0);
    st_out_tensor *t = calloc((size_t)ntensors + 1, sizeof *t);
    char (*names)[64] = calloc((size_t)ntensors + 1, sizeof *names);
    const char **meta = calloc((size_t)(m->nmeta + 2) * 2, sizeof *meta);
    if (!t || !names || !meta) {
        free(t); free(names); free(meta);
        return ae_fail(err, "%s: out of memory", path);
    }
    int k = 0;
    for (int i = 0; i < m->nlayers; i++) {
        const ae_layer *l = &m->layers[i];
        if (l->w_count) {
            model_tensor_name(l, "weight", names[k], sizeof names[k]);
            t[k] = (st_out_tensor){ .name = names[k], .dtype = ST_F32, .data = m->params + l->w_off,
                                    .ndim = l->w_ndim };
            for (int d = 0; d < l->w_ndim; d++) t[k].shape[d] = l->w_shape[d];
            k++;
        }
        if (l->b_count) {
            model_tensor_name(l, "bias", names[k], sizeof names[k]);
            t[k] = (st_out_tensor){ .name = names[k], .dtype = ST_F32, .data = m->params + l->b_off,
                                    .ndim = 1, .shape = { (int64_t)l->b_count } };
            k++;
        }
    }
    int nm = 0;
    meta[2 * nm] = META_DESCRIPTION; meta[2 * nm + 1] = m->description; nm++;
    meta[2 * nm] = META_VERSION; meta[2 * nm + 1] = AEKIT_VERSION; nm++;
    for (int i = 0; i < m->nmeta; i++) {
        if (!strcmp(m->meta_keys[i], META_DESCRIPTION) || !strcmp(m->meta_keys[i], META_VERSION)) continue;
        meta[2 * nm] = m->meta_keys[i];
        meta[2 * nm + 1] = m->meta_vals[i];
        nm++;
    }
    int rc = st_write(path, t, k, meta, nm, err);
    free(t);
    free(names);
    free(meta);
    return rc;
}

/* Does every tensor of m appear in f with m's shape, and nothing else? */
static int tensors_match(const ae_model *m, const st_file *f)
{
    int expected = 0;
    for (int i = 0; i < m->nlayers; i++) {
        const ae_layer *l = &m->layers[i];
        for (int which = 0; which < 2; which++) {
            size_t count = which ? l->b_count : l->w_count;
            if (!count) continue;
            expected++;
            char name[64];
            model_tensor_name(l, which ? "bias" : "weight", name, sizeof name);
            const st_tensor *t = st_find(f, name);
            if (!t) return 0;
            int ndim = which ? 1 : l->w_ndim;
            if (t->ndim != ndim) return 0;
            for (int d = 0; d < ndim; d++)
                if (t->shape[d] != (which ? (int64_t)l->b_count : (int64_t)l->w_shape[d])) return 0;
        }
    }
    return expected == f->count;
}

static int load_weights(ae_model *m, const st_file *f, ae_error *err)
{
    if (!tensors_match(m, f)) {
        /* name the first tensor that is missing or misshapen */
        for (int i = 0; i < m->nlayers; i++) {
            const ae_layer *l = &m->layers[i];
            for (int which = 0; which < 2; which++) {
                size_t count = which ? l->b_count : l->w_count;
                if (!count) continue;
                char name[64];
                model_tensor_name(l, which ? "bias" : "weight", name, sizeof name);
                const st_tensor *t = st_find(f, name);
                if (!t) return ae_fail(err, "%s: tensor '%s' is missing", f->path, name);
                if (t->numel != count)
                    return ae_fail(err, "%s: tensor '%s' has %zu values, the model needs %zu",
                                   f->path, name, t->numel, count);
            }
        }
        return ae_fail(err, "%s: tensors do not match the model description (extra tensors or other shapes)", f->path);
    }
    for (int i = 0; i < m->nlayers; i++) {
        const ae_layer *l = &m->layers[i];
        char name[64];
        if (l->w_count) {
            model_tensor_name(l, "weight", name, sizeof name);
            if (st_get_f32(f, name, m->params + l->w_off, l->w_count, err)) return -1;
        }
        if (l->b_count) {
            model_tensor_name(l, "bias", name, sizeof name);
            if (st_get_f32(f, name, m->params + l->b_off, l->b_count, err)) return -1;
        }
    }
    return 0;
}

int ae_model_load(ae_model **out, const char *path, ae_error *err)
{
    *out = NULL;
    st_file f;
    if (st_read(&f, path, err)) return -1;
    ae_model *m = NULL;
    const char *desc = st_meta(&f, META_DESCRIPTION);
    if (desc) {
        char origin[1100];
        snprintf(origin, sizeof origin, "%s (description)", path);
        if (ae_model_from_text(&m, desc, origin, err)) goto fail;
    } else {
        /* no description: a file saved by another tool; find the preset it fits */
        const char *const *names = ae_model_presets();
        for (int i = 0; names[i] && !m; i++) {
            ae_model *cand;
            if (ae_model_from_preset(&cand, names[i], NULL)) continue;
            if (tensors_match(cand, &f)) m = cand;
            else ae_model_free(cand);
        }
        if (!m) {
            ae_fail(err, "%s: no aekit model description in the file, and its tensors match no preset", path);
            goto fail;
        }
    }
    if (load_weights(m, &f, err)) goto fail;
    for (int i = 0; i < f.nmeta; i++) {
        if (!strcmp(f.meta_keys[i], META_DESCRIPTION)) continue;
        if (ae_model_set_meta(m, f.meta_keys[i], f.meta_vals[i], err)) goto fail;
    }
    st_free(&f);
    *out = m;
    return 0;
fail:
    ae_model_free(m);
    st_free(&f);
    return -1;
}
