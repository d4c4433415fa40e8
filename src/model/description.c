/* Description text <-> structure (description.h): the parser, one layer per
 * line (docs/model-format.md), and the printer of the canonical text. Every
 * parse error names the origin and line number. Layer words, their
 * arguments and defaults come from the layer kinds table. */
#define _POSIX_C_SOURCE 200809L
#include "model/description.h"
#include "model/layer_kinds.h"
#include "core/error.h"
#include "aekit/text.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 16
#define MAX_LAYERS 256

/* the one list of loss names (ae_loss_name, the parser, the printer) */
static const char *const loss_names[] = { "bce", "mse", "sse", "bce_sum" };
_Static_assert(sizeof loss_names / sizeof loss_names[0] == AE_LOSS_BCE_SUM + 1, "a name per ae_loss");
static const char *const part_names[] = { "encoder", "decoder", "discriminator" };

const char *ae_loss_name(ae_loss loss)
{
    return loss >= AE_LOSS_BCE && loss <= AE_LOSS_BCE_SUM ? loss_names[loss] : "?";
}
const char *description_part_name(int part) { return part_names[part]; }

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

static int *int_field(layer_spec *s, const layer_arg *a) { return (int *)((char *)s + a->field); }
static float *float_field(layer_spec *s, const layer_arg *a) { return (float *)((char *)s + a->field); }
static int int_value(const layer_spec *s, const layer_arg *a) { return *(const int *)((const char *)s + a->field); }
static float float_value(const layer_spec *s, const layer_arg *a) { return *(const float *)((const char *)s + a->field); }

static int parse_arg(parse_ctx *c, layer_spec *s, const layer_arg *a, const char *val)
{
    switch (a->type) {
    case ARG_FLOAT: return parse_float(c, a->what, val, float_field(s, a));
    case ARG_PAD:
        if (strcmp(val, "same") == 0) { *int_field(s, a) = -1; return 0; }
        if (strcmp(val, "valid") == 0) { *int_field(s, a) = 0; return 0; }
        return parse_int(c, a->what, val, a->lo, a->hi, int_field(s, a));
    case ARG_INT: break;
    }
    return parse_int(c, a->what, val, a->lo, a->hi, int_field(s, a));
}

/* key=value options (and pools' ceil / floor) after the positional numbers */
static int parse_option(parse_ctx *c, layer_spec *s, const char *layer, const char *tok)
{
    const layer_kind_info *kind = &layer_kinds[s->kind];
    const char *eq = strchr(tok, '=');
    if (!eq) {
        if (kind->pool_words && strcmp(tok, "ceil") == 0) { s->ceil_mode = 1; return 0; }
        if (kind->pool_words && strcmp(tok, "floor") == 0) { s->ceil_mode = 0; return 0; }
        return ae_fail(c->err, "%s:%d: %s: unexpected '%s'", c->origin, c->line, layer, tok);
    }
    size_t klen = (size_t)(eq - tok);
    for (int i = kind->max_args; i < kind->nargs; i++) {
        const layer_arg *a = &kind->args[i];
        if (klen == strlen(a->key) && strncmp(tok, a->key, klen) == 0) return parse_arg(c, s, a, eq + 1);
    }
    return ae_fail(c->err, "%s:%d: %s: unknown option '%.*s'", c->origin, c->line, layer, (int)klen, tok);
}

/* "conv, maxpool, ... or sample", from the table */
static void kind_list(char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = 0;
    for (int k = 0; k < L_KIND_COUNT && used < size; k++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s",
                                 k == 0 ? "" : k == L_KIND_COUNT - 1 ? " or " : ", ", layer_kinds[k].name);
}

static int parse_layer(parse_ctx *c, layer_spec *s, char **tok, int ntok)
{
    int w = layer_kind_find(tok[0]);
    if (w < 0) {
        char list[256];
        kind_list(list, sizeof list);
        return ae_fail(c->err, "%s:%d: unknown layer '%s' (expected %s)", c->origin, c->line, tok[0], list);
    }
    const layer_kind_info *kind = &layer_kinds[w];
    memset(s, 0, sizeof *s);
    s->kind = (layer_kind)w;
    s->line = c->line;
    s->k = 2;
    s->stride = 1;
    s->pad = -1;            /* same */
    s->has_bias = 1;
    s->scale = 2;
    s->slope = 0.2f;
    for (int i = 0; i < kind->nargs; i++) {
        const layer_arg *a = &kind->args[i];
        if (a->type == ARG_FLOAT) *float_field(s, a) = a->dflt;
        else *int_field(s, a) = (int)a->dflt;
    }
    int npos = 0;
    while (1 + npos < ntok && !strchr(tok[1 + npos], '=') && isdigit((unsigned char)tok[1 + npos][0]))
        npos++;
    if (npos < kind->min_args || npos > kind->max_args)
        return ae_fail(c->err, "%s:%d: %s takes %d to %d numbers, got %d", c->origin, c->line,
                       tok[0], kind->min_args, kind->max_args, npos);
    for (int i = 0; i < npos; i++)
        if (parse_arg(c, s, &kind->args[i], tok[1 + i])) return -1;
    for (int i = 1 + npos; i < ntok; i++)
        if (parse_option(c, s, tok[0], tok[i])) return -1;
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
 * else the text's `param latent N` line). Returns a new string; *used is
 * the size filled in, 0 when the text has no {latent}. */
static char *substitute_latent(const char *text, const char *origin, int latent, int *used, ae_error *err)
{
    int deflt;
    *used = 0;
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
    if (uses) *used = latent;
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

void description_free(ae_description *d)
{
    if (!d) return;
    for (int i = 0; i < d->nlines; i++) free(d->lines[i].comment);
    free(d->lines);
    free(d->layers);
    memset(d, 0, sizeof *d);
}

/* `condition` layers and `param classes` come together: each condition
 * layer gets the class count. */
static int check_condition(ae_description *d, const char *origin, ae_error *err)
{
    int used = 0;
    for (int i = 0; i < d->nlayers; i++) {
        layer_spec *s = &d->layers[i];
        if (s->kind != L_CONDITION) continue;
        if (!d->classes)
            return ae_fail(err, "%s:%d: condition: the description gives no class count (add 'param classes N')",
                           origin, s->line);
        s->units = d->classes;
        used = 1;
    }
    if (d->classes && !used)
        return ae_fail(err, "%s: 'param classes %d' but no 'condition' layer takes the label", origin, d->classes);
    return 0;
}

/* Parses the text, {latent} filled in, into d (lines, layers, settings). */
static int parse_lines(ae_description *d, char *copy, parse_ctx *c, int latent_used)
{
    const char *origin = c->origin;
    ae_error *err = c->err;
    int part = -1, have_input = 0, n_enc = -1, n_ae = -1, nl = 0, first_param = 1;
    /* split lines by hand: strtok would skip empty lines and lose the count */
    for (char *p = copy; p;) {
        char *nl_ch = strchr(p, '\n');
        if (nl_ch) *nl_ch = 0;
        c->line++;
        desc_line *dl = &d->lines[d->nlines++];
        char *hash = strchr(p, '#');
        if (hash) {
            *hash = 0;
            if (!(dl->comment = strdup(hash + 1))) return ae_fail(err, "%s: out of memory", origin);
        }
        char *tok[MAX_TOKENS];
        int ntok = split_tokens(p, tok);
        p = nl_ch ? nl_ch + 1 : NULL;
        dl->type = LINE_BLANK;
        if (ntok == 0) continue;
        if (ntok == MAX_TOKENS) return ae_fail(err, "%s:%d: too many words", origin, c->line);
        if (strcmp(tok[0], "input") == 0) {
            if (ntok != 4) return ae_fail(err, "%s:%d: input takes channels height width", origin, c->line);
            if (parse_int(c, "input channels", tok[1], 1, 64, &d->in_c) ||
                parse_int(c, "input height", tok[2], 1, MAX_DIM, &d->in_h) ||
                parse_int(c, "input width", tok[3], 1, MAX_DIM, &d->in_w)) return -1;
            dl->type = LINE_INPUT;
            have_input = 1;
        } else if (strcmp(tok[0], "output") == 0) {
            if (ntok != 4) return ae_fail(err, "%s:%d: output takes channels height width", origin, c->line);
            if (parse_int(c, "output channels", tok[1], 1, 64, &d->out_c) ||
                parse_int(c, "output height", tok[2], 1, MAX_DIM, &d->out_h) ||
                parse_int(c, "output width", tok[3], 1, MAX_DIM, &d->out_w)) return -1;
            dl->type = LINE_OUTPUT;
            d->has_output = 1;
        } else if (strcmp(tok[0], "param") == 0 && ntok == 3 && strcmp(tok[1], "classes") == 0) {
            /* `param classes N`: the labels the `condition` layers take */
            if (d->classes) return ae_fail(err, "%s:%d: a second 'param classes' line", origin, c->line);
            if (parse_int(c, "param classes", tok[2], 2, MAX_CLASSES, &d->classes)) return -1;
            dl->type = LINE_CLASSES;
        } else if (strcmp(tok[0], "param") == 0) {
            /* `param latent N`: the default for {latent}, substituted already;
             * the first one says the size filled in, when it was another */
            if (ntok != 3 || strcmp(tok[1], "latent"))
                return ae_fail(err, "%s:%d: expected 'param latent N' or 'param classes N'", origin, c->line);
            if (parse_int(c, "param latent", tok[2], 1, AE_MAX_LATENT, &dl->value)) return -1;
            if (first_param && latent_used) dl->value = latent_used;
            first_param = 0;
            dl->type = LINE_PARAM;
        } else if (strcmp(tok[0], "loss") == 0) {
            int found = -1;
            for (int i = 0; i < 4; i++)
                if (ntok == 2 && strcmp(tok[1], loss_names[i]) == 0) found = i;
            if (found < 0) return ae_fail(err, "%s:%d: loss must be bce, mse, sse or bce_sum", origin, c->line);
            d->loss = (ae_loss)found;
            dl->type = LINE_LOSS;
        } else if (strcmp(tok[0], "encoder") == 0 && ntok == 1) {
            if (part != -1) return ae_fail(err, "%s:%d: 'encoder' must come first, once", origin, c->line);
            part = PART_ENCODER;
            dl->type = LINE_SECTION; dl->value = part;
        } else if (strcmp(tok[0], "decoder") == 0 && ntok == 1) {
            if (part != PART_ENCODER) return ae_fail(err, "%s:%d: 'decoder' must follow 'encoder', once", origin, c->line);
            if (nl == 0) return ae_fail(err, "%s:%d: the encoder has no layers", origin, c->line);
            part = PART_DECODER; n_enc = nl;
            dl->type = LINE_SECTION; dl->value = part;
        } else if (strcmp(tok[0], "discriminator") == 0 && ntok == 1) {
            if (part != PART_DECODER) return ae_fail(err, "%s:%d: 'discriminator' must follow 'decoder', once", origin, c->line);
            if (nl == n_enc) return ae_fail(err, "%s:%d: the decoder has no layers", origin, c->line);
            part = PART_DISCRIMINATOR; n_ae = nl;
            dl->type = LINE_SECTION; dl->value = part;
        } else {
            if (part < 0) return ae_fail(err, "%s:%d: '%s' before 'encoder'", origin, c->line, tok[0]);
            if (nl == MAX_LAYERS) return ae_fail(err, "%s:%d: more than %d layers", origin, c->line, MAX_LAYERS);
            if (parse_layer(c, &d->layers[nl], tok, ntok)) return -1;
            d->layers[nl].part = part;
            dl->type = LINE_LAYER; dl->value = nl;
            d->nlayers = ++nl;
        }
    }
    if (!have_input) return ae_fail(err, "%s: no 'input C H W' line", origin);
    if (part < PART_DECODER || n_enc == nl) return ae_fail(err, "%s: needs an 'encoder' and a 'decoder' section, each with layers", origin);
    if (part == PART_DISCRIMINATOR && n_ae == nl) return ae_fail(err, "%s: the discriminator has no layers", origin);
    if (n_ae < 0) n_ae = nl;
    if (check_condition(d, origin, err)) return -1;
    if (!d->has_output) { d->out_c = d->in_c; d->out_h = d->in_h; d->out_w = d->in_w; }
    d->n_encoder = n_enc;
    d->n_autoencoder = n_ae;
    return 0;
}

int description_parse(ae_description *d, const char *src_text, const char *origin, int latent, ae_error *err)
{
    memset(d, 0, sizeof *d);
    d->loss = AE_LOSS_BCE;
    if (check_utf8(src_text, origin, err)) return -1;
    int used;
    char *text = substitute_latent(src_text, origin, latent, &used, err);
    if (!text) return -1;
    int nlines = 1;
    for (const char *q = text; *q; q++) nlines += *q == '\n';
    d->lines = calloc((size_t)nlines, sizeof *d->lines);
    d->layers = calloc(MAX_LAYERS, sizeof *d->layers);
    if (!d->lines || !d->layers) {
        free(text);
        description_free(d);
        return ae_fail(err, "%s: out of memory", origin);
    }
    parse_ctx c = { origin, 0, err };
    int rc = parse_lines(d, text, &c, used);
    free(text);
    if (rc) description_free(d);
    return rc;
}

/* ---- printing ---- */

typedef struct {
    char *buf;
    size_t used, cap;
    int failed;
} text_buf;

static void put(text_buf *t, const char *fmt, ...)
{
    if (t->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf + t->used, t->cap - t->used, fmt, ap);
        va_end(ap);
        if (n < 0) { t->failed = 1; return; }
        if ((size_t)n < t->cap - t->used) { t->used += (size_t)n; return; }
        size_t cap = (t->cap + (size_t)n) * 2;
        char *b = realloc(t->buf, cap);
        if (!b) { t->failed = 1; return; }
        t->buf = b;
        t->cap = cap;
    }
}

/* The shortest decimal that reads back as the same float. */
static void put_float(text_buf *t, float v)
{
    char s[32];
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(s, sizeof s, "%.*g", digits, (double)v);
        if (strtof(s, NULL) == v) break;
    }
    put(t, "%s", s);
}

static void put_arg(text_buf *t, const layer_spec *s, const layer_arg *a)
{
    if (a->type == ARG_FLOAT) { put_float(t, float_value(s, a)); return; }
    int v = int_value(s, a);
    if (a->type == ARG_PAD && v == -1) put(t, "same");
    else if (a->type == ARG_PAD && v == 0) put(t, "valid");
    else put(t, "%d", v);
}

static int at_default(const layer_spec *s, const layer_arg *a)
{
    return a->type == ARG_FLOAT ? float_value(s, a) == a->dflt : int_value(s, a) == (int)a->dflt;
}

static void put_layer(text_buf *t, const layer_spec *s)
{
    const layer_kind_info *kind = &layer_kinds[s->kind];
    put(t, "%s", kind->name);
    for (int i = 0; i < kind->nargs; i++) {
        const layer_arg *a = &kind->args[i];
        int positional = i < kind->max_args;
        if (!(positional && i < kind->min_args) && !a->always_print && at_default(s, a)) continue;
        put(t, positional ? " " : " %s=", a->key);
        put_arg(t, s, a);
    }
    if (kind->pool_words && s->ceil_mode) put(t, " ceil");
}

char *description_print(const ae_description *d)
{
    text_buf t = { NULL, 0, 0, 0 };
    t.buf = malloc(t.cap = 1024);
    if (!t.buf) return NULL;
    t.buf[0] = 0;
    for (int i = 0; i < d->nlines; i++) {
        const desc_line *l = &d->lines[i];
        if (i) put(&t, "\n");
        switch (l->type) {
        case LINE_BLANK:   break;
        case LINE_INPUT:   put(&t, "input %d %d %d", d->in_c, d->in_h, d->in_w); break;
        case LINE_OUTPUT:  put(&t, "output %d %d %d", d->out_c, d->out_h, d->out_w); break;
        case LINE_PARAM:   put(&t, "param latent %d", l->value); break;
        case LINE_CLASSES: put(&t, "param classes %d", d->classes); break;
        case LINE_LOSS:    put(&t, "loss %s", loss_names[d->loss]); break;
        case LINE_SECTION: put(&t, "%s", part_names[l->value]); break;
        case LINE_LAYER:   put_layer(&t, &d->layers[l->value]); break;
        }
        if (l->comment) put(&t, "%s#%s", l->type == LINE_BLANK ? "" : " ", l->comment);
    }
    if (t.failed) {
        free(t.buf);
        return NULL;
    }
    return t.buf;
}

/* ---- comparing and editing ---- */

static int layer_equal(const layer_spec *a, const layer_spec *b)
{
    return a->kind == b->kind && a->part == b->part && a->line == b->line && a->units == b->units &&
           a->k == b->k && a->stride == b->stride && a->pad == b->pad && a->ceil_mode == b->ceil_mode &&
           a->scale == b->scale && a->has_bias == b->has_bias && a->slope == b->slope &&
           a->shape[0] == b->shape[0] && a->shape[1] == b->shape[1] && a->shape[2] == b->shape[2];
}

int description_equal(const ae_description *a, const ae_description *b)
{
    if (a->in_c != b->in_c || a->in_h != b->in_h || a->in_w != b->in_w || a->has_output != b->has_output ||
        a->out_c != b->out_c || a->out_h != b->out_h || a->out_w != b->out_w || a->loss != b->loss ||
        a->classes != b->classes ||
        a->nlayers != b->nlayers || a->n_encoder != b->n_encoder || a->n_autoencoder != b->n_autoencoder ||
        a->nlines != b->nlines)
        return 0;
    for (int i = 0; i < a->nlayers; i++)
        if (!layer_equal(&a->layers[i], &b->layers[i])) return 0;
    for (int i = 0; i < a->nlines; i++) {
        const desc_line *x = &a->lines[i], *y = &b->lines[i];
        if (x->type != y->type || x->value != y->value || !x->comment != !y->comment ||
            (x->comment && strcmp(x->comment, y->comment)))
            return 0;
    }
    return 1;
}

int description_set_loss(ae_description *d, ae_loss loss, int *added)
{
    *added = -1;
    for (int i = 0; i < d->nlines; i++)
        if (d->lines[i].type == LINE_LOSS) {
            d->loss = loss;
            return 0;
        }
    /* no `loss` line: add one before the first section, moving the lines
     * (and the layers' line numbers) after it down by one */
    int at = 0;
    while (at < d->nlines && d->lines[at].type != LINE_SECTION) at++;
    desc_line *lines = realloc(d->lines, (size_t)(d->nlines + 1) * sizeof *lines);
    if (!lines) return -1;
    memmove(lines + at + 1, lines + at, (size_t)(d->nlines - at) * sizeof *lines);
    lines[at] = (desc_line){ LINE_LOSS, 0, NULL };
    d->lines = lines;
    d->nlines++;
    for (int i = 0; i < d->nlayers; i++)
        if (d->layers[i].line > at) d->layers[i].line++;
    d->loss = loss;
    *added = at;
    return 0;
}

void description_undo_set_loss(ae_description *d, ae_loss old, int added)
{
    d->loss = old;
    if (added < 0) return;
    /* the array keeps its size: one unused entry at the end */
    memmove(d->lines + added, d->lines + added + 1, (size_t)(d->nlines - added - 1) * sizeof *d->lines);
    d->nlines--;
    for (int i = 0; i < d->nlayers; i++)
        if (d->layers[i].line > added) d->layers[i].line--;
}
