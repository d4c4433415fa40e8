/* A model's parameters as named tensors (aekit.h): the one walk over them
 * in the order, names and shapes of a model file, which the saver, the
 * loader's checks and a binding's state_dict all use. */
#include "model/model.h"
#include "core/error.h"

#include <string.h>

int ae_model_tensor_count(const ae_model *m)
{
    int n = 0;
    for (int i = 0; i < m->nlayers; i++) n += (m->layers[i].w_count > 0) + (m->layers[i].b_count > 0);
    return n;
}

int ae_model_tensor(const ae_model *m, int i, ae_tensor *out, ae_error *err)
{
    int k = 0;
    for (int li = 0; li < m->nlayers; li++) {
        const ae_layer *l = &m->layers[li];
        for (int bias = 0; bias < 2; bias++) {
            size_t count = bias ? l->b_count : l->w_count;
            if (!count) continue;
            if (k++ != i) continue;
            memset(out, 0, sizeof *out);
            model_tensor_name(l, bias ? "bias" : "weight", out->name, sizeof out->name);
            /* const model, writable data: writing is the caller's change of
             * the model (aekit.h), like ae_model_init */
            out->data = m->params ? m->params + (bias ? l->b_off : l->w_off) : NULL; /* NULL: a model being matched, no weights yet */
            out->count = count;
            out->ndim = bias ? 1 : l->w_ndim;
            if (bias) out->shape[0] = (int64_t)count;
            else
                for (int d = 0; d < l->w_ndim; d++) out->shape[d] = l->w_shape[d];
            return 0;
        }
    }
    return ae_fail(err, "tensor %d: out of range (the model has %d tensors)", i, k);
}
