/* libFuzzer harness: the safetensors reader (src/format/safetensors.c) and
 * model files (ae_model_load, src/model/model_file.c).
 *
 * The input is written to a file; st_read parses it, then every tensor is
 * converted with st_get_f32 (and st_get_u8) for its element count, and
 * ae_model_load reads the same file as a model. */
#include "fuzz_common.h"

#include "aekit.h"
#include "format/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[300];
    if (!path[0]) fz_path(path, sizeof path, "input.safetensors");
    fz_write(path, data, size);

    ae_error err;
    st_file f;
    if (st_read(&f, path, &err) == 0) {
        for (int i = 0; i < f.count; i++) {
            const st_tensor *t = &f.tensors[i];
            if (t->end > f.data_size || t->begin > t->end) abort();
            if (st_find(&f, t->name) == NULL) abort();
            float *dst = malloc(t->numel ? t->numel * sizeof(float) : 1);
            if (!dst) abort();
            if (st_get_f32(&f, t->name, dst, t->numel, &err) == 0)
                fz_touch(dst, t->numel * sizeof(float));
            else if (t->dtype == ST_F32 || t->dtype == ST_F64 || t->dtype == ST_F16 ||
                     t->dtype == ST_BF16)
                abort(); /* a float tensor of the right count must convert */
            if (t->dtype == ST_U8 && st_get_u8(&f, t->name, (uint8_t *)dst, t->numel, &err) != 0)
                abort();
            /* a wrong count is an error, never a copy */
            if (st_get_f32(&f, t->name, dst, t->numel + 1, &err) == 0) abort();
            free(dst);
        }
        for (int i = 0; i < f.nmeta; i++)
            if (st_meta(&f, f.meta_keys[i]) == NULL) abort();
        st_free(&f);
    } else if (!err.msg[0]) {
        abort();
    }

    ae_model *m;
    if (ae_model_load(&m, path, &err) == 0) {
        char summary[4096];
        size_t want = ae_model_summary(m, summary, sizeof summary);
        (void)want;
        (void)ae_model_param_count(m);
        for (int i = 0; i < ae_model_meta_count(m); i++) {
            const char *k, *v;
            ae_model_meta_at(m, i, &k, &v);
            if (!k || !v || ae_model_meta(m, k) == NULL) abort();
        }
        ae_model_free(m);
    } else if (!err.msg[0]) {
        abort();
    }
    return 0;
}
