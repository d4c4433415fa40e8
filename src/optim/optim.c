/* The optimiser kinds: what train.c and checkpoint.c know of an optimiser
 * comes from this table (adding one is a row, its update file and a value
 * of ae_optimizer). */
#include "optim/optim.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

static void adam_step(float *p, const float *g, float *const *b, size_t n, const ae_train_options *o, long t)
{
    adam_update(p, g, b[0], b[1], n, o->lr, o->beta1, o->beta2, o->eps, t, o->weight_decay);
}

static void rmsprop_step(float *p, const float *g, float *const *b, size_t n, const ae_train_options *o, long t)
{
    (void)t;
    rmsprop_update(p, g, b[0], n, o->lr, o->alpha, o->eps, o->weight_decay);
}

static void sgd_step(float *p, const float *g, float *const *b, size_t n, const ae_train_options *o, long t)
{
    (void)t;
    sgd_update(p, g, b[0], n, o->lr, o->momentum, o->weight_decay);
}

/* indexed by ae_optimizer: its name (--optimizer, files) and its kind */
const char *const optim_names[] = { "adam", "rmsprop", "sgd", NULL };
static const optim_kind kinds[] = {
    { 2, { "exp_avg", "exp_avg_sq" }, { 0, 1 }, "lr beta1 beta2 eps weight_decay", adam_step },
    { 1, { "square_avg" },            { 1 },    "lr alpha eps weight_decay", rmsprop_step },
    { 1, { "momentum_buffer" },       { 0 },    "lr momentum weight_decay", sgd_step },
};
enum { NKINDS = (int)(sizeof kinds / sizeof kinds[0]) };

_Static_assert(sizeof optim_names / sizeof optim_names[0] == NKINDS + 1, "optim_names: one per kind");
_Static_assert(AE_OPT_SGD + 1 == NKINDS, "one kind per ae_optimizer");

const optim_kind *optim_kind_of(ae_optimizer k)
{
    return (int)k >= 0 && (int)k < NKINDS ? &kinds[k] : NULL;
}

int optim_by_name(const char *name)
{
    for (int i = 0; i < NKINDS; i++)
        if (strcmp(name, optim_names[i]) == 0) return i;
    return -1;
}

int optim_state_alloc(optim_state *st, ae_optimizer k, size_t nparams, size_t lo, size_t hi)
{
    memset(st, 0, sizeof *st);
    const optim_kind *kind = optim_kind_of(k);
    int n = kind ? kind->nbuf : 1;
    float *all = calloc(nparams * (size_t)n + 1, sizeof(float));
    for (int i = 0; i < n; i++) st->buf[i] = all ? all + nparams * (size_t)i : NULL;
    st->nbuf = n;
    st->lo = lo;
    st->hi = hi;
    return all ? 0 : -1;
}

void optim_state_free(optim_state *st)
{
    free(st->buf[0]);
    memset(st, 0, sizeof *st);
}

void optim_step(const ae_train_options *o, optim_state *st, float *params, const float *g, int threads)
{
    const optim_kind *kind = optim_kind_of(o->optimizer);
    st->t++;
    size_t lo = st->lo, n = st->hi - st->lo;
    long t_now = st->t;
    /* each thread updates its own slice: parallel, and the same result for any split */
    #pragma omp parallel num_threads(threads) if (n > 65536)
    {
        int t = omp_get_thread_num(), T = omp_get_num_threads();
        size_t a = lo + n * t / T, b = lo + n * (t + 1) / T;
        float *bufs[OPTIM_MAX_BUFFERS] = { NULL };
        for (int i = 0; i < st->nbuf; i++) bufs[i] = st->buf[i] + a;
        kind->update(params + a, g + a, bufs, b - a, o, t_now);
    }
}
