/* Builds a model's layers from its description (description.h): shapes
 * inferred from the input shape through the layer kinds table, parameter
 * offsets, activation layout, and the checks that need shapes. */
#include "model/model.h"
#include "model/layer_kinds.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARAMS (1u << 28)  /* 256 M floats = 1 GiB: a typo, not a model */
#define MAX_LAYER_VALUES ((size_t)1 << 26) /* a layer's input or output, per image */
#define MAX_ACT    ((size_t)1 << 28)  /* all layers' outputs together, per image */

/* The layer of spec s with its output shape and parameter shapes for an
 * input of ic x ih x iw. */
static int infer_shape(ae_layer *l, const layer_spec *s, int ic, int ih, int iw, const char *origin,
                       ae_error *err)
{
    memset(l, 0, sizeof *l);
    l->kind = s->kind;
    l->part = s->part;
    l->line = s->line;
    l->units = s->units;
    l->k = s->k;
    l->stride = s->stride;
    l->pad = s->pad;
    l->ceil_mode = s->ceil_mode;
    l->scale = s->scale;
    l->has_bias = s->has_bias;
    l->slope = s->slope;
    if (s->kind == L_RESHAPE) { l->out_c = s->shape[0]; l->out_h = s->shape[1]; l->out_w = s->shape[2]; }
    /* the model's input (the first layer's) is not checked anywhere else */
    if ((size_t)ic * ih * iw > MAX_LAYER_VALUES)
        return ae_fail(err, "%s:%d: layer input of %dx%dx%d values per image is too large",
                       origin, l->line, ic, ih, iw);
    l->in_c = ic; l->in_h = ih; l->in_w = iw;
    char msg[256];
    if (layer_kinds[l->kind].infer(l, msg, sizeof msg))
        return ae_fail(err, "%s:%d: %s", origin, l->line, msg);
    l->in_size = (size_t)ic * ih * iw;
    l->out_size = (size_t)l->out_c * l->out_h * l->out_w;
    if (l->out_size > MAX_LAYER_VALUES)
        return ae_fail(err, "%s:%d: layer output of %zu values per image is too large",
                       origin, l->line, l->out_size);
    return 0;
}

/* Layers, shapes and layouts from d into the shape fields of b (a scratch
 * model: nothing else of b is read or written). */
static int build_layers(const ae_description *d, ae_model *b, const char *origin, ae_error *err)
{
    int nl = d->nlayers, n_enc = d->n_encoder, n_ae = d->n_autoencoder;
    ae_layer *layers = calloc((size_t)nl, sizeof *layers);
    if (!layers) return ae_fail(err, "%s: out of memory", origin);
    b->in_c = d->in_c; b->in_h = d->in_h; b->in_w = d->in_w;
    b->out_c = d->out_c; b->out_h = d->out_h; b->out_w = d->out_w;
    b->loss = d->loss;

    int ic = b->in_c, ih = b->in_h, iw = b->in_w;
    size_t poff = 0, aoff = 0, max_act = (size_t)ic * ih * iw;
    int index[3] = { 0, 0, 0 };   /* position in each part's nn.Sequential */
    b->sample_layer = -1;
    for (int i = 0; i < nl; i++) {
        ae_layer *l = &layers[i];
        if (i == n_ae) {
            /* the decoder must give the output shape; the discriminator reads the latent */
            if (ic != b->out_c || ih != b->out_h || iw != b->out_w) {
                ae_fail(err, "%s: the decoder ends with %dx%dx%d, the output should be %dx%dx%d: they must match",
                        origin, ic, ih, iw, b->out_c, b->out_h, b->out_w);
                goto fail;
            }
            ic = layers[n_enc - 1].out_c; ih = layers[n_enc - 1].out_h; iw = layers[n_enc - 1].out_w;
        }
        if (infer_shape(l, &d->layers[i], ic, ih, iw, origin, err)) goto fail;
        l->index = index[l->part]++;
        if (l->kind == L_SAMPLE) {
            if (i != n_enc - 1) {
                ae_fail(err, "%s:%d: 'sample' must be the last layer of the encoder", origin, l->line);
                goto fail;
            }
            b->sample_layer = i;
        }
        l->w_off = poff; poff += l->w_count;
        l->b_off = poff; poff += l->b_count;
        if (poff > MAX_PARAMS) { ae_fail(err, "%s:%d: more than %u parameters", origin, l->line, MAX_PARAMS); goto fail; }
        l->act_off = aoff; aoff += l->out_size;
        if (aoff > MAX_ACT) { ae_fail(err, "%s:%d: the layers' outputs add up to more than %zu values per image", origin, l->line, MAX_ACT); goto fail; }
        if (l->out_size > max_act) max_act = l->out_size;
        ic = l->out_c; ih = l->out_h; iw = l->out_w;
    }
    if (n_ae == nl && (ic != b->out_c || ih != b->out_h || iw != b->out_w)) {
        ae_fail(err, "%s: the decoder ends with %dx%dx%d, the %s is %dx%dx%d: they must match", origin,
                ic, ih, iw, d->has_output ? "output" : "input", b->out_c, b->out_h, b->out_w);
        goto fail;
    }
    if (n_ae < nl && (ic != 1 || ih != 1 || iw != 1 || layers[nl - 1].kind != L_SIGMOID)) {
        ae_fail(err, "%s: the discriminator must end with one value through 'sigmoid' (ends with %dx%dx%d)",
                origin, ic, ih, iw);
        goto fail;
    }
    if (b->in_c != b->out_c || b->out_h % b->in_h || b->out_w % b->in_w ||
        b->out_h / b->in_h != b->out_w / b->in_w) {
        ae_fail(err, "%s: output %dx%dx%d is not the input %dx%dx%d scaled up by a whole factor", origin,
                b->out_c, b->out_h, b->out_w, b->in_c, b->in_h, b->in_w);
        goto fail;
    }
    if ((b->loss == AE_LOSS_BCE || b->loss == AE_LOSS_BCE_SUM) && layers[n_ae - 1].kind != L_SIGMOID) {
        ae_fail(err, "%s: loss bce needs the decoder to end with 'sigmoid' (or use 'loss mse' / 'loss sse')", origin);
        goto fail;
    }
    b->layers = layers;
    b->nlayers = nl;
    b->n_encoder = n_enc;
    b->n_autoencoder = n_ae;
    b->nparams = poff;
    b->act_per_image = aoff;
    b->max_act = max_act;
    return 0;
fail:
    free(layers);
    return -1;
}

/* Builds into a scratch model and prints the text first, so that m
 * changes only when both succeeded. */
int model_build(ae_model *m, const char *origin, ae_error *err)
{
    ae_model b = { 0 };
    if (build_layers(&m->desc, &b, origin, err)) return -1;
    char *text = description_print(&m->desc);
    if (!text) {
        free(b.layers);
        return ae_fail(err, "%s: out of memory", origin);
    }
    m->in_c = b.in_c; m->in_h = b.in_h; m->in_w = b.in_w;
    m->out_c = b.out_c; m->out_h = b.out_h; m->out_w = b.out_w;
    m->loss = b.loss;
    free(m->layers);
    m->layers = b.layers;
    m->nlayers = b.nlayers;
    m->n_encoder = b.n_encoder;
    m->n_autoencoder = b.n_autoencoder;
    m->sample_layer = b.sample_layer;
    m->classes = m->desc.classes;
    m->nparams = b.nparams;
    m->act_per_image = b.act_per_image;
    m->max_act = b.max_act;
    free(m->description);
    m->description = text;
    return 0;
}

int model_parse(ae_model *m, const char *text, const char *origin, int latent, ae_error *err)
{
    if (description_parse(&m->desc, text, origin, latent, err)) return -1;
    snprintf(m->origin, sizeof m->origin, "%s", origin);
    if (model_build(m, origin, err)) {
        description_free(&m->desc);
        free(m->layers);
        m->layers = NULL;
        return -1;
    }
    return 0;
}

void model_tensor_name(const ae_layer *l, const char *what, char *buf, size_t size)
{
    snprintf(buf, size, "%s.%d.%s", description_part_name(l->part), l->index, what);
}

int model_logits_layer(const ae_model *m)
{
    int last = m->n_autoencoder - 1;
    if ((m->loss == AE_LOSS_BCE || m->loss == AE_LOSS_BCE_SUM) && last >= 1 &&
        m->layers[last].kind == L_SIGMOID)
        return last - 1;
    return -1;
}
