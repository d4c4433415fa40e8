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
    int ntensors = ae_model_tensor_count(m);
    st_out_tensor *t = calloc((size_t)(ntensors + nextra) + 1, sizeof *t);
    ae_tensor *mt = calloc((size_t)ntensors + 1, sizeof *mt);
    const char **meta = calloc((size_t)(m->nmeta + 2 + nextra_meta) * 2, sizeof *meta);
    if (!t || !mt || !meta) {
        free(t); free(mt); free(meta);
        return ae_fail(err, "%s: out of memory", path);
    }
    int k = 0;
    for (; k < ntensors; k++) {
        ae_model_tensor(m, k, &mt[k], NULL);
        t[k] = (st_out_tensor){ .name = mt[k].name, .dtype = ST_F32, .data = mt[k].data, .ndim = mt[k].ndim };
        for (int d = 0; d < mt[k].ndim; d++) t[k].shape[d] = mt[k].shape[d];
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
    free(mt);
    free(meta);
    return rc;
}

static void shape_text(const int64_t *shape, int ndim, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < ndim && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (used < size) snprintf(buf + used, size - used, "]");
}

/* Does f hold every tensor of m with m's shape, and nothing else (but a
 * checkpoint's training state)? 0 when it does; else 1, with the first
 * tensor that is missing, misshapen or extra in msg, and in *matched how
 * many of m's tensors, in order, came before it (the nearest preset is
 * the one that matched longest). Shapes decide, not the data: it may not
 * be read yet. */
static int tensors_mismatch(const ae_model *m, const st_file *f, char *msg, size_t size, int *matched)
{
    int n = ae_model_tensor_count(m), ours = 0;
    *matched = 0;
    for (int i = 0; i < n; i++) {
        ae_tensor mt;
        ae_model_tensor(m, i, &mt, NULL);
        const st_tensor *t = st_find(f, mt.name);
        if (!t) {
            snprintf(msg, size, "tensor '%s' is missing", mt.name);
            return 1;
        }
        if (t->numel != mt.count) {
            snprintf(msg, size, "tensor '%s' has %zu values, the model needs %zu", mt.name, t->numel, mt.count);
            return 1;
        }
        int same = t->ndim == mt.ndim;
        for (int d = 0; same && d < mt.ndim; d++) same = t->shape[d] == mt.shape[d];
        if (!same) {
            char have[128], want[128];
            shape_text(t->shape, t->ndim, have, sizeof have);
            shape_text(mt.shape, mt.ndim, want, sizeof want);
            snprintf(msg, size, "tensor '%s' has shape %s, the model needs %s", mt.name, have, want);
            return 1;
        }
        ++*matched;
    }
    for (int i = 0; i < f->count; i++) ours += !is_checkpoint_name(f->tensors[i].name);
    if (ours == n) return 0;
    /* more: every tensor of m is in f and f's names are unique, so one of
     * f's is not m's; name the first */
    for (int i = 0; i < f->count; i++) {
        const char *name = f->tensors[i].name;
        int found = is_checkpoint_name(name);
        for (int k = 0; k < n && !found; k++) {
            ae_tensor mt;
            ae_model_tensor(m, k, &mt, NULL);
            found = strcmp(mt.name, name) == 0;
        }
        if (!found) {
            snprintf(msg, size, "tensor '%s' is not one of the model's", name);
            return 1;
        }
    }
    return 0;
}

/* Is every tensor the model needs in f, with its shape, and no other? Fails
 * naming the first one that is missing, misshapen or extra. Checked before
 * the model's parameters are allocated and before the tensors' data is
 * read, so that a small file whose description claims a huge model costs
 * nothing, and a file of huge tensors that fit no model costs its header
 * (data that fits is at least half the size of the parameters it holds,
 * F16 or BF16, and no larger than the file). */
static int check_weights(const ae_model *m, const st_file *f, ae_error *err)
{
    char msg[400];
    int matched;
    if (tensors_mismatch(m, f, msg, sizeof msg, &matched))
        return ae_fail(err, "%s: %s", f->path, msg);
    return 0;
}

/* Allocates m's parameters and copies every tensor into them (all of them
 * are there: check_weights passed, so no initialisation is needed). */
static int load_weights(ae_model *m, const st_file *f, ae_error *err)
{
    if (model_alloc_params(m))
        return ae_fail(err, "%s: out of memory for %zu parameters", f->path, m->nparams);
    int n = ae_model_tensor_count(m);
    for (int i = 0; i < n; i++) {
        ae_tensor mt;
        ae_model_tensor(m, i, &mt, NULL);
        if (st_get_f32(f, mt.name, mt.data, mt.count, err)) return -1;
    }
    return 0;
}

/* Layers and shapes from a description, without parameters (model_parse
 * allocates none): ae_model_free releases it. */
static ae_model *parse_only(const char *text, const char *origin, int latent, ae_error *err)
{
    ae_model *m = calloc(1, sizeof *m);
    if (!m) {
        ae_fail(err, "%s: out of memory", origin);
        return NULL;
    }
    if (model_parse(m, text, origin, latent, err)) {
        free(m);
        return NULL;
    }
    return m;
}

int ae_model_load(ae_model **out, const char *path, ae_error *err)
{
    return ae_model_load_as(out, path, NULL, 0, err);
}

int ae_model_load_as(ae_model **out, const char *path, const char *description, int latent, ae_error *err)
{
    *out = NULL;
    st_file f;
    if (st_read_header(&f, path, err)) return -1; /* the data once the tensors fit */
    int rc = model_from_st(&f, path, description, latent, out, err);
    st_free(&f);
    return rc;
}

int ae_model_from_tensors(ae_model **out, const ae_tensor *tensors, int count, const char *description,
                          int latent, const char *origin, ae_error *err)
{
    *out = NULL;
    st_file f;
    if (st_from_tensors(&f, tensors, count, origin, err)) return -1;
    int rc = model_from_st(&f, origin, description, latent, out, err);
    st_free(&f);
    return rc;
}

int model_from_st(st_file *fp, const char *path, const char *description, int latent, ae_model **out,
                  ae_error *err)
{
    const st_file f = *fp;   /* a shallow copy, read only (fp gets the data below) */
    *out = NULL;
    ae_model *m = NULL;
    /* ae_model_set_meta is linear in the number of keys: st_read bounds the
     * total (ST_MAX_META). */
    const char *desc = description ? description : st_meta(&f, META_DESCRIPTION);
    if (desc) {
        char origin[1100];
        snprintf(origin, sizeof origin, "%s (description)", path);
        if (!(m = parse_only(desc, origin, latent, err))) goto fail;
        if (check_weights(m, &f, err)) goto fail;
    } else {
        /* no description: a file saved by another tool; find the preset it
         * fits, or name the nearest one's first mismatch */
        const char *const *names = ae_model_presets();
        char nearest[600] = "", msg[400];
        int best = -1;
        for (int i = 0; names[i] && !m; i++) {
            char origin[128];
            snprintf(origin, sizeof origin, "preset %s", names[i]);
            /* a preset without {latent} ignores the latent size */
            ae_model *cand = parse_only(ae_preset_texts[i], origin, latent, NULL);
            int matched;
            if (cand && !tensors_mismatch(cand, &f, msg, sizeof msg, &matched)) m = cand;
            else {
                if (cand && matched > best) {
                    best = matched;
                    snprintf(nearest, sizeof nearest, " (the nearest, preset %s: %s)", names[i], msg);
                }
                ae_model_free(cand);
            }
        }
        if (!m) {
            ae_fail(err, "%s: no aekit model description, and the tensors match no preset%s", path, nearest);
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
