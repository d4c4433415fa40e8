/* The model description parser: text, one layer per line (docs/model-format.md),
 * into layers with inferred shapes and parameter offsets. Every error names
 * the origin and line number. */
#define _POSIX_C_SOURCE 200809L
#include "model/model.h"
#include "core/error.h"
#include "aekit/text.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 16
#define MAX_LAYERS 256
#define MAX_DIM    65536
#define MAX_PARAMS (1u << 28)  /* 256 M floats = 1 GiB: a typo, not a model */
#define MAX_LAYER_VALUES ((size_t)1 << 26) /* a layer's input or output, per image */
#define MAX_ACT    ((size_t)1 << 28)  /* all layers' outputs together, per image */

typedef struct {
    const char *origin;
    int line;
    ae_error *err;
} parse_ctx;

static int split_tokens(char *s, char **tok)
{
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(s, " \t\r", &save); t && n < MAX_TOKENS; t = strtok_r(NULL, " \t\r", &save))
        tok[n++] = t;
    return n;
}

static int parse_int(parse_ctx *c, const char *what, const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return ae_fail(c->err, "%s:%d: %s: expected an integer from %d to %d, got '%s'",
                       c->origin, c->line, what, lo, hi, s);
    *out = (int)v;
    return 0;
}

static int parse_float(parse_ctx *c, const char *what, const char *s, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= -FLT_MAX && v <= FLT_MAX)) /* no NaN, no inf */
        return ae_fail(c->err, "%s:%d: %s: expected a finite number, got '%s'", c->origin, c->line, what, s);
    *out = (float)v;
    return 0;
}

/* key=value options after the positional arguments */
static int parse_option(parse_ctx *c, ae_layer *l, const char *layer, const char *tok)
{
    const char *eq = strchr(tok, '=');
    if (!eq) {
        if (strcmp(tok, "ceil") == 0 && (l->kind == L_MAXPOOL || l->kind == L_AVGPOOL)) {
            l->ceil_mode = 1;
            return 0;
        }
        if (strcmp(tok, "floor") == 0 && (l->kind == L_MAXPOOL || l->kind == L_AVGPOOL)) {
            l->ceil_mode = 0;
            return 0;
        }
        return ae_fail(c->err, "%s:%d: %s: unexpected '%s'", c->origin, c->line, layer, tok);
    }
    size_t klen = (size_t)(eq - tok);
    const char *val = eq + 1;
#define KEY(s) (klen == strlen(s) && strncmp(tok, s, klen) == 0)
    if (l->kind == L_CONV && KEY("k")) return parse_int(c, "conv k", val, 1, 31, &l->k);
    if (l->kind == L_CONV && KEY("stride")) return parse_int(c, "conv stride", val, 1, 16, &l->stride);
    if ((l->kind == L_CONV || l->kind == L_DENSE) && KEY("bias")) return parse_int(c, "bias", val, 0, 1, &l->has_bias);
    if (l->kind == L_CONV && KEY("pad")) {
        if (strcmp(val, "same") == 0) { l->pad = -1; return 0; }
        if (strcmp(val, "valid") == 0) { l->pad = 0; return 0; }
        return parse_int(c, "conv pad", val, 0, 31, &l->pad);
    }
    if (l->kind == L_LEAKY_RELU && KEY("slope")) return parse_float(c, "leaky_relu slope", val, &l->slope);
#undef KEY
    return ae_fail(c->err, "%s:%d: %s: unknown option '%.*s'", c->origin, c->line, layer, (int)klen, tok);
}

static const struct { const char *name; layer_kind kind; int min_args, max_args; } layer_words[] = {
    {"conv", L_CONV, 1, 1},       {"maxpool", L_MAXPOOL, 0, 1}, {"avgpool", L_AVGPOOL, 0, 1},
    {"upsample", L_UPSAMPLE, 0, 1}, {"dense", L_DENSE, 1, 1},   {"flatten", L_FLATTEN, 0, 0},
    {"reshape", L_RESHAPE, 3, 3}, {"relu", L_RELU, 0, 0},       {"leaky_relu", L_LEAKY_RELU, 0, 0},
    {"sigmoid", L_SIGMOID, 0, 0}, {"tanh", L_TANH, 0, 0},       {"sample", L_SAMPLE, 0, 0},
};

static int parse_layer(parse_ctx *c, ae_layer *l, char **tok, int ntok)
{
    int w = -1;
    for (size_t i = 0; i < sizeof layer_words / sizeof layer_words[0]; i++)
        if (strcmp(tok[0], layer_words[i].name) == 0) w = (int)i;
    if (w < 0)
        return ae_fail(c->err, "%s:%d: unknown layer '%s' (expected conv, maxpool, avgpool, upsample, "
                       "dense, flatten, reshape, relu, leaky_relu, sigmoid, tanh or sample)", c->origin, c->line, tok[0]);
    memset(l, 0, sizeof *l);
    l->kind = layer_words[w].kind;
    l->line = c->line;
    l->k = (l->kind == L_CONV) ? 3 : 2;
    l->stride = 1;
    l->pad = -1;            /* same */
    l->has_bias = 1;
    l->scale = 2;
    l->slope = 0.2f;
    int npos = 0;
    while (1 + npos < ntok && !strchr(tok[1 + npos], '=') && isdigit((unsigned char)tok[1 + npos][0]))
        npos++;
    if (npos < layer_words[w].min_args || npos > layer_words[w].max_args)
        return ae_fail(c->err, "%s:%d: %s takes %d to %d numbers, got %d", c->origin, c->line,
                       tok[0], layer_words[w].min_args, layer_words[w].max_args, npos);
    switch (l->kind) {
    case L_CONV:  if (parse_int(c, "conv channels", tok[1], 1, 4096, &l->units)) return -1; break;
    case L_DENSE: if (parse_int(c, "dense units", tok[1], 1, 1 << 20, &l->units)) return -1; break;
    case L_MAXPOOL: case L_AVGPOOL:
        if (npos && parse_int(c, "pool size", tok[1], 1, 64, &l->k)) return -1;
        break;
    case L_UPSAMPLE:
        if (npos && parse_int(c, "upsample factor", tok[1], 1, 64, &l->scale)) return -1;
        break;
    case L_RESHAPE:
        if (parse_int(c, "reshape channels", tok[1], 1, MAX_DIM, &l->out_c) ||
            parse_int(c, "reshape height", tok[2], 1, MAX_DIM, &l->out_h) ||
            parse_int(c, "reshape width", tok[3], 1, MAX_DIM, &l->out_w)) return -1;
        break;
    default: break;
    }
    for (int i = 1 + npos; i < ntok; i++)
        if (parse_option(c, l, tok[0], tok[i])) return -1;
    return 0;
}

/* Fills output shapes and parameter counts given the input shape. */
static int infer_shape(parse_ctx *c, ae_layer *l, int ic, int ih, int iw)
{
    c->line = l->line;
    /* the model's input (the first layer's) is not checked anywhere else */
    if ((size_t)ic * ih * iw > MAX_LAYER_VALUES)
        return ae_fail(c->err, "%s:%d: layer input of %dx%dx%d values per image is too large",
                       c->origin, c->line, ic, ih, iw);
    l->in_c = ic; l->in_h = ih; l->in_w = iw;
    l->w_count = l->b_count = 0;
    switch (l->kind) {
    case L_CONV:
        if (l->pad < 0) {
            if (l->k % 2 == 0 || l->stride != 1)
                return ae_fail(c->err, "%s:%d: conv: pad=same needs an odd k and stride 1; give pad=N",
                               c->origin, c->line);
            l->pad = l->k / 2;
        }
        l->conv = (conv2d_shape_t){ .cin = ic, .h = ih, .w = iw, .cout = l->units, .k = l->k,
                                    .stride = l->stride, .pad = l->pad };
        if (conv2d_shape(&l->conv))
            return ae_fail(c->err, "%s:%d: conv: a %dx%d kernel does not fit the %dx%d input",
                           c->origin, c->line, l->k, l->k, ih, iw);
        l->out_c = l->units; l->out_h = l->conv.ho; l->out_w = l->conv.wo;
        l->w_count = (size_t)l->units * ic * l->k * l->k;
        l->w_ndim = 4;
        l->w_shape[0] = l->units; l->w_shape[1] = ic; l->w_shape[2] = l->k; l->w_shape[3] = l->k;
        l->b_count = l->has_bias ? (size_t)l->units : 0;
        break;
    case L_MAXPOOL: case L_AVGPOOL:
        l->out_c = ic;
        l->out_h = pool2d_out(ih, l->k, l->ceil_mode);
        l->out_w = pool2d_out(iw, l->k, l->ceil_mode);
        if (l->out_h < 1 || l->out_w < 1)
            return ae_fail(c->err, "%s:%d: pool: a %dx%d window does not fit the %dx%d input",
                           c->origin, c->line, l->k, l->k, ih, iw);
        break;
    case L_UPSAMPLE:
        l->out_c = ic; l->out_h = ih * l->scale; l->out_w = iw * l->scale;
        if (l->out_h > MAX_DIM || l->out_w > MAX_DIM)
            return ae_fail(c->err, "%s:%d: upsample: output too large", c->origin, c->line);
        break;
    case L_DENSE:
        if (ih != 1 || iw != 1)
            return ae_fail(c->err, "%s:%d: dense needs a flat input (%dx%dx%d here): add 'flatten' before it",
                           c->origin, c->line, ic, ih, iw);
        l->out_c = l->units; l->out_h = 1; l->out_w = 1;
        l->w_count = (size_t)l->units * ic;
        l->w_ndim = 2; l->w_shape[0] = l->units; l->w_shape[1] = ic;
        l->b_count = l->has_bias ? (size_t)l->units : 0;
        break;
    case L_FLATTEN:
        l->out_c = ic * ih * iw; l->out_h = 1; l->out_w = 1;
        break;
    case L_SAMPLE:
        if (ih != 1 || iw != 1 || ic % 2)
            return ae_fail(c->err, "%s:%d: sample needs a flat input of 2 x latent values (mean, then "
                           "log-variance), e.g. 'dense {latent2}'; got %dx%dx%d", c->origin, c->line, ic, ih, iw);
        l->out_c = ic / 2; l->out_h = 1; l->out_w = 1;
        break;
    case L_RESHAPE:
        if ((size_t)l->out_c * l->out_h * l->out_w != (size_t)ic * ih * iw)
            return ae_fail(c->err, "%s:%d: reshape %d %d %d has %zu values, its input has %zu",
                           c->origin, c->line, l->out_c, l->out_h, l->out_w,
                           (size_t)l->out_c * l->out_h * l->out_w, (size_t)ic * ih * iw);
        break;
    default:
        l->out_c = ic; l->out_h = ih; l->out_w = iw;
        break;
    }
    l->in_size = (size_t)ic * ih * iw;
    l->out_size = (size_t)l->out_c * l->out_h * l->out_w;
    if (l->out_size > MAX_LAYER_VALUES)
        return ae_fail(c->err, "%s:%d: layer output of %zu values per image is too large",
                       c->origin, c->line, l->out_size);
    return 0;
}

/* The N of the text's first `param latent N` line (0 when it has none),
 * read as the parser reads lines (words split by blanks, '#' starts a
 * comment) and range-checked: the default size of {latent}. */
static int param_latent(const char *text, const char *origin, int *out, ae_error *err)
{
    parse_ctx c = { origin, 0, err };
    *out = 0;
    for (const char *line = text; line; ) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        c.line++;
        const char *w = line + strspn(line, " \t\r");
        if (strncmp(w, "param", 5) == 0 && (w[5] == ' ' || w[5] == '\t')) {
            char *copy = strndup(line, len), *tok[MAX_TOKENS];
            if (!copy) return ae_fail(err, "%s: out of memory", origin);
            char *hash = strchr(copy, '#');
            if (hash) *hash = 0;
            int ntok = split_tokens(copy, tok);
            int rc = ntok == 3 && strcmp(tok[1], "latent") == 0
                         ? parse_int(&c, "param latent", tok[2], 1, AE_MAX_LATENT, out) : 0;
            free(copy);
            if (rc || *out) return rc;
        }
        line = eol ? eol + 1 : NULL;
    }
    return 0;
}

/* Replaces {latent} and {latent2} with the latent size (from the argument,
 * else the text's `param latent N` line). Returns a new string. */
static char *substitute_latent(const char *text, const char *origin, int latent, ae_error *err)
{
    int deflt;
    if (param_latent(text, origin, &deflt, err)) return NULL;
    if (latent <= 0) latent = deflt;
    int uses = strstr(text, "{latent") != NULL;
    if (uses && latent <= 0) {
        ae_fail(err, "%s: uses {latent} but gives no size (add 'param latent N' or pass a latent size)", origin);
        return NULL;
    }
    if (latent > AE_MAX_LATENT) {
        ae_fail(err, "%s: latent size %d is too large (at most %d)", origin, latent, AE_MAX_LATENT);
        return NULL;
    }
    size_t cap = strlen(text) * 2 + 64;
    char *out = malloc(cap), *o = out;
    if (!out) { ae_fail(err, "%s: out of memory", origin); return NULL; }
    for (const char *q = text; *q;) {
        size_t room = cap - (size_t)(o - out);
        if (strncmp(q, "{latent2}", 9) == 0) { o += snprintf(o, room, "%d", 2 * latent); q += 9; }
        else if (strncmp(q, "{latent}", 8) == 0) { o += snprintf(o, room, "%d", latent); q += 8; }
        else *o++ = *q++;
    }
    *o = 0;
    return out;
}

/* The description is stored in model files as a JSON string, which must be
 * UTF-8: reject anything else here, not when the trained model is saved. */
static int check_utf8(const char *text, const char *origin, ae_error *err)
{
    int line = 1;
    for (const unsigned char *s = (const unsigned char *)text; *s;) {
        unsigned cp;
        size_t n = ae_utf8_decode(s, &cp);
        if (n == 0)
            return ae_fail(err, "%s:%d: byte 0x%02x is not UTF-8 (save the description as UTF-8)",
                           origin, line, *s);
        if (*s == '\n') line++;
        s += n;
    }
    return 0;
}

int model_parse(ae_model *m, const char *src_text, const char *origin, int latent, ae_error *err)
{
    parse_ctx c = { origin, 0, err };
    if (check_utf8(src_text, origin, err)) return -1;
    char *text = substitute_latent(src_text, origin, latent, err);
    if (!text) return -1;
    char *copy = strdup(text);
    ae_layer *layers = calloc(MAX_LAYERS, sizeof *layers);
    if (!copy || !layers) {
        free(copy); free(layers); free(text);
        return ae_fail(err, "%s: out of memory", origin);
    }
    int nl = 0, part = -1, have_input = 0, have_output = 0, n_enc = -1, n_ae = -1, index = 0;
    m->loss = AE_LOSS_BCE;
    int rc = -1;
    /* split lines by hand: strtok would skip empty lines and lose the count */
    char *p = copy;
    while (p) {
        char *nl_ch = strchr(p, '\n');
        if (nl_ch) *nl_ch = 0;
        c.line++;
        char *hash = strchr(p, '#');
        if (hash) *hash = 0;
        char *tok[MAX_TOKENS];
        int ntok = split_tokens(p, tok);
        p = nl_ch ? nl_ch + 1 : NULL;
        if (ntok == 0) continue;
        if (ntok == MAX_TOKENS) { ae_fail(err, "%s:%d: too many words", origin, c.line); goto out; }
        if (strcmp(tok[0], "input") == 0) {
            if (ntok != 4) { ae_fail(err, "%s:%d: input takes channels height width", origin, c.line); goto out; }
            if (parse_int(&c, "input channels", tok[1], 1, 64, &m->in_c) ||
                parse_int(&c, "input height", tok[2], 1, MAX_DIM, &m->in_h) ||
                parse_int(&c, "input width", tok[3], 1, MAX_DIM, &m->in_w)) goto out;
            have_input = 1;
        } else if (strcmp(tok[0], "output") == 0) {
            if (ntok != 4) { ae_fail(err, "%s:%d: output takes channels height width", origin, c.line); goto out; }
            if (parse_int(&c, "output channels", tok[1], 1, 64, &m->out_c) ||
                parse_int(&c, "output height", tok[2], 1, MAX_DIM, &m->out_h) ||
                parse_int(&c, "output width", tok[3], 1, MAX_DIM, &m->out_w)) goto out;
            have_output = 1;
        } else if (strcmp(tok[0], "param") == 0) {
            /* `param latent N`: the default for {latent}, substituted above */
            int unused;
            if (ntok != 3 || strcmp(tok[1], "latent")) { ae_fail(err, "%s:%d: expected 'param latent N'", origin, c.line); goto out; }
            if (parse_int(&c, "param latent", tok[2], 1, AE_MAX_LATENT, &unused)) goto out;
        } else if (strcmp(tok[0], "loss") == 0) {
            static const char *const names[] = { "bce", "mse", "sse", "bce_sum" };
            int found = -1;
            for (int i = 0; i < 4; i++)
                if (ntok == 2 && strcmp(tok[1], names[i]) == 0) found = i;
            if (found < 0) { ae_fail(err, "%s:%d: loss must be bce, mse, sse or bce_sum", origin, c.line); goto out; }
            m->loss = (ae_loss)found;
        } else if (strcmp(tok[0], "encoder") == 0 && ntok == 1) {
            if (part != -1) { ae_fail(err, "%s:%d: 'encoder' must come first, once", origin, c.line); goto out; }
            part = PART_ENCODER; index = 0;
        } else if (strcmp(tok[0], "decoder") == 0 && ntok == 1) {
            if (part != PART_ENCODER) { ae_fail(err, "%s:%d: 'decoder' must follow 'encoder', once", origin, c.line); goto out; }
            if (nl == 0) { ae_fail(err, "%s:%d: the encoder has no layers", origin, c.line); goto out; }
            part = PART_DECODER; index = 0; n_enc = nl;
        } else if (strcmp(tok[0], "discriminator") == 0 && ntok == 1) {
            if (part != PART_DECODER) { ae_fail(err, "%s:%d: 'discriminator' must follow 'decoder', once", origin, c.line); goto out; }
            if (nl == n_enc) { ae_fail(err, "%s:%d: the decoder has no layers", origin, c.line); goto out; }
            part = PART_DISCRIMINATOR; index = 0; n_ae = nl;
        } else {
            if (part < 0) { ae_fail(err, "%s:%d: '%s' before 'encoder'", origin, c.line, tok[0]); goto out; }
            if (nl == MAX_LAYERS) { ae_fail(err, "%s:%d: more than %d layers", origin, c.line, MAX_LAYERS); goto out; }
            if (parse_layer(&c, &layers[nl], tok, ntok)) goto out;
            layers[nl].part = part;
            layers[nl].index = index++;
            nl++;
        }
    }
    if (!have_input) { ae_fail(err, "%s: no 'input C H W' line", origin); goto out; }
    if (part < PART_DECODER || n_enc == nl) { ae_fail(err, "%s: needs an 'encoder' and a 'decoder' section, each with layers", origin); goto out; }
    if (part == PART_DISCRIMINATOR && n_ae == nl) { ae_fail(err, "%s: the discriminator has no layers", origin); goto out; }
    if (n_ae < 0) n_ae = nl;
    if (!have_output) { m->out_c = m->in_c; m->out_h = m->in_h; m->out_w = m->in_w; }

    /* shapes, parameter layout, activation layout */
    int ic = m->in_c, ih = m->in_h, iw = m->in_w;
    size_t poff = 0, aoff = 0, max_act = (size_t)ic * ih * iw;
    m->sample_layer = -1;
    for (int i = 0; i < nl; i++) {
        ae_layer *l = &layers[i];
        if (i == n_ae) {
            /* the decoder must give the output shape; the discriminator reads the latent */
            if (ic != m->out_c || ih != m->out_h || iw != m->out_w) {
                ae_fail(err, "%s: the decoder ends with %dx%dx%d, the output should be %dx%dx%d: they must match",
                        origin, ic, ih, iw, m->out_c, m->out_h, m->out_w);
                goto out;
            }
            ic = layers[n_enc - 1].out_c; ih = layers[n_enc - 1].out_h; iw = layers[n_enc - 1].out_w;
        }
        if (infer_shape(&c, l, ic, ih, iw)) goto out;
        if (l->kind == L_SAMPLE) {
            if (i != n_enc - 1) {
                ae_fail(err, "%s:%d: 'sample' must be the last layer of the encoder", origin, l->line);
                goto out;
            }
            m->sample_layer = i;
        }
        l->w_off = poff; poff += l->w_count;
        l->b_off = poff; poff += l->b_count;
        if (poff > MAX_PARAMS) { ae_fail(err, "%s:%d: more than %u parameters", origin, l->line, MAX_PARAMS); goto out; }
        l->act_off = aoff; aoff += l->out_size;
        if (aoff > MAX_ACT) { ae_fail(err, "%s:%d: the layers' outputs add up to more than %zu values per image", origin, l->line, MAX_ACT); goto out; }
        if (l->out_size > max_act) max_act = l->out_size;
        ic = l->out_c; ih = l->out_h; iw = l->out_w;
    }
    if (n_ae == nl && (ic != m->out_c || ih != m->out_h || iw != m->out_w)) {
        ae_fail(err, "%s: the decoder ends with %dx%dx%d, the %s is %dx%dx%d: they must match", origin,
                ic, ih, iw, have_output ? "output" : "input", m->out_c, m->out_h, m->out_w);
        goto out;
    }
    if (n_ae < nl && (ic != 1 || ih != 1 || iw != 1 || layers[nl - 1].kind != L_SIGMOID)) {
        ae_fail(err, "%s: the discriminator must end with one value through 'sigmoid' (ends with %dx%dx%d)",
                origin, ic, ih, iw);
        goto out;
    }
    if (m->in_c != m->out_c || m->out_h % m->in_h || m->out_w % m->in_w ||
        m->out_h / m->in_h != m->out_w / m->in_w) {
        ae_fail(err, "%s: output %dx%dx%d is not the input %dx%dx%d scaled up by a whole factor", origin,
                m->out_c, m->out_h, m->out_w, m->in_c, m->in_h, m->in_w);
        goto out;
    }
    if ((m->loss == AE_LOSS_BCE || m->loss == AE_LOSS_BCE_SUM) && layers[n_ae - 1].kind != L_SIGMOID) {
        ae_fail(err, "%s: loss bce needs the decoder to end with 'sigmoid' (or use 'loss mse' / 'loss sse')", origin);
        goto out;
    }
    m->layers = layers;
    m->nlayers = nl;
    m->n_encoder = n_enc;
    m->n_autoencoder = n_ae;
    m->nparams = poff;
    m->act_per_image = aoff;
    m->max_act = max_act;
    m->description = text;   /* the text with {latent} filled in */
    text = NULL;
    snprintf(m->origin, sizeof m->origin, "%s", origin);
    layers = NULL;
    rc = 0;
out:
    free(layers);
    free(copy);
    free(text);
    return rc;
}

void model_tensor_name(const ae_layer *l, const char *what, char *buf, size_t size)
{
    static const char *const parts[] = { "encoder", "decoder", "discriminator" };
    snprintf(buf, size, "%s.%d.%s", parts[l->part], l->index, what);
}

int model_logits_layer(const ae_model *m)
{
    int last = m->n_autoencoder - 1;
    if ((m->loss == AE_LOSS_BCE || m->loss == AE_LOSS_BCE_SUM) && last >= 1 &&
        m->layers[last].kind == L_SIGMOID)
        return last - 1;
    return -1;
}
