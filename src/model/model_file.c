/* Model files: safetensors with PyTorch state_dict names (encoder.N.weight,
 * decoder.N.bias, ...), the model description and training metadata in
 * __metadata__. Files without a description (saved from PyTorch) are
 * matched against the presets by tensor names and shapes. */
#include "model/model.h"
#include "model/model_file.h"
#include "core/error.h"
#include "format/safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define META_DESCRIPTION "aekit.description"
#define META_VERSION "aekit.version"

/* generated from the files in models/ (the same order as ae_model_presets()) */
extern const char *const ae_preset_texts[];

static int is_checkpoint_name(const char *name)
{
    return strncmp(name, CHECKPOINT_PREFIX, strlen(CHECKPOINT_PREFIX)) == 0;
}

int ae_model_save(const ae_model *m, const char *path, ae_error *err)
{
    return model_save_with(m, path, NULL, 0, NULL, 0, err);
}

int model_save_with(const ae_model *m, const char *path, const st_out_tensor *extra, int nextra,
                    const char *const *extra_meta, int nextra_meta, ae_error *err)
{
    int ntensors = 0;
    for (int i = 0; i < m->nlayers; i++)
        ntensors += (m->layers[i].w_count > 0) + (m->layers[i].b_count > 0);
    st_out_tensor *t = calloc((size_t)(ntensors + nextra) + 1, sizeof *t);
    char (*names)[64] = calloc((size_t)ntensors + 1, sizeof *names);
    const char **meta = calloc((size_t)(m->nmeta + 2 + nextra_meta) * 2, sizeof *meta);
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
    for (int i = 0; i < nextra_meta; i++) {
        meta[2 * nm] = extra_meta[2 * i];
        meta[2 * nm + 1] = extra_meta[2 * i + 1];
        nm++;
    }
    for (int i = 0; i < nextra; i++) t[k++] = extra[i];
    int rc = st_write(path, t, k, meta, nm, err);
    free(t);
    free(names);
    free(meta);
    return rc;
}

/* Does every tensor of m appear in f with m's shape, and nothing else
 * (but a checkpoint's training state)? */
static int tensors_match(const ae_model *m, const st_file *f)
{
    int expected = 0;
    for (int i = 0; i < f->count; i++) expected += is_checkpoint_name(f->tensors[i].name);
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

/* Is every tensor the model needs in f, with its element count? Fails naming
 * the first one that is missing or misshapen. Checked before the model's
 * parameters are allocated and before the tensors' data is read, so that a
 * small file whose description claims a huge model costs nothing, and a file
 * of huge tensors that fit no model costs its header (data that fits is at
 * least half the size of the parameters it holds, F16 or BF16, and no
 * larger than the file). */
static int check_weights(const ae_model *m, const st_file *f, ae_error *err)
{
    if (tensors_match(m, f)) return 0;
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

/* Allocates m's parameters and copies every tensor into them (all of them
 * are there: check_weights passed, so no initialisation is needed). */
static int load_weights(ae_model *m, const st_file *f, ae_error *err)
{
    if (model_alloc_params(m))
        return ae_fail(err, "%s: out of memory for %zu parameters", f->path, m->nparams);
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

/* Layers and shapes from a description, without parameters (model_parse
 * allocates none): ae_model_free releases it. */
static ae_model *parse_only(const char *text, const char *origin, ae_error *err)
{
    ae_model *m = calloc(1, sizeof *m);
    if (!m) {
        ae_fail(err, "%s: out of memory", origin);
        return NULL;
    }
    if (model_parse(m, text, origin, 0, err)) {
        free(m);
        return NULL;
    }
    return m;
}

int ae_model_load(ae_model **out, const char *path, ae_error *err)
{
    *out = NULL;
    st_file f;
    if (st_read_header(&f, path, err)) return -1; /* the data once the tensors fit */
    int rc = model_from_st(&f, path, out, err);
    st_free(&f);
    return rc;
}

int model_from_st(st_file *fp, const char *path, ae_model **out, ae_error *err)
{
    const st_file f = *fp;   /* a shallow copy, read only (fp gets the data below) */
    *out = NULL;
    ae_model *m = NULL;
    /* ae_model_set_meta is linear in the number of keys: st_read bounds the
     * total (ST_MAX_META). */
    const char *desc = st_meta(&f, META_DESCRIPTION);
    if (desc) {
        char origin[1100];
        snprintf(origin, sizeof origin, "%s (description)", path);
        if (!(m = parse_only(desc, origin, err))) goto fail;
        if (check_weights(m, &f, err)) goto fail;
    } else {
        /* no description: a file saved by another tool; find the preset it fits */
        const char *const *names = ae_model_presets();
        for (int i = 0; names[i] && !m; i++) {
            char origin[128];
            snprintf(origin, sizeof origin, "preset %s", names[i]);
            ae_model *cand = parse_only(ae_preset_texts[i], origin, NULL);
            if (cand && tensors_match(cand, &f)) m = cand;
            else ae_model_free(cand);
        }
        if (!m) {
            ae_fail(err, "%s: no aekit model description in the file, and its tensors match no preset", path);
            goto fail;
        }
    }
    if (st_read_data(fp, err) || load_weights(m, fp, err)) goto fail;
    for (int i = 0; i < f.nmeta; i++) {
        if (!strcmp(f.meta_keys[i], META_DESCRIPTION) || is_checkpoint_name(f.meta_keys[i])) continue;
        if (ae_model_set_meta(m, f.meta_keys[i], f.meta_vals[i], err)) goto fail;
    }
    *out = m;
    return 0;
fail:
    ae_model_free(m);
    return -1;
}
