/* Training across processes: the chained gradient sum, the gather of
 * per-chunk sums, rank 0's decisions, and the start check. The library
 * moves bytes only through the caller's ae_ranks calls (aekit train's are
 * MPI's); every sum here is done by the library, in worker order, so that
 * the result does not depend on how MPI would order a reduction. */
#define _POSIX_C_SOURCE 200809L   /* fileno */
#include "model/ranks.h"
#include "core/error.h"
#include "core/threads.h"
#include "model/train_state.h"
#include "model/checkpoint.h"
#include "aekit/files.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A message of the chained sum: up to RANKS_MAX_VALUES doubles, then up to
 * RANKS_SEGMENT floats. The values of a sum ride with its last segment,
 * just before its floats (the message starts nv doubles before them). */
#define HEAD (RANKS_MAX_VALUES * sizeof(double))

int ranks_valid(const ae_ranks *r, ae_error *err)
{
    if (r->size < 1 || r->rank < 0 || r->rank >= r->size)
        return ae_fail(err, "ranks: rank %d of %d processes is not a rank (0 to size-1)", r->rank, r->size);
    if (!r->send || !r->recv || !r->broadcast)
        return ae_fail(err, "ranks: the send, recv and broadcast calls must all be given");
    return 0;
}

int ranks_msg_new(ranks_run *rk, ae_error *err)
{
    rk->msg = malloc(HEAD + RANKS_SEGMENT * sizeof(float));
    return rk->msg ? 0 : ae_fail(err, "out of memory for the message buffer between ranks");
}

void ranks_msg_free(ranks_run *rk)
{
    free(rk->msg);
    rk->msg = NULL;
}

static int moved(int rc, const ae_ranks *r, const char *what, int other, ae_error *err)
{
    if (rc == 0) return 0;
    return ae_fail(err, "rank %d: could not %s rank %d", r->rank, what, other);
}

static int send_to(const ae_ranks *r, int to, const void *buf, size_t bytes, ae_error *err)
{
    return moved(r->send(r->user, to, buf, bytes), r, "send to", to, err);
}

static int recv_from(const ae_ranks *r, int from, void *buf, size_t bytes, ae_error *err)
{
    return moved(r->recv(r->user, from, buf, bytes), r, "receive from", from, err);
}

static int broadcast_from(const ae_ranks *r, int root, void *buf, size_t bytes, ae_error *err)
{
    return moved(r->broadcast(r->user, root, buf, bytes), r, "take a broadcast of", root, err);
}

int ranks_sum_grads(const ranks_run *rk, ae_workspace *ws, int threads, size_t lo, size_t hi,
                    const double *vals, int nv, double *sums, ae_error *err)
{
    const ae_ranks *r = rk->r;
    int me = r->rank, last_rank = r->size - 1;
    float *g0 = work_grad(ws, 0);
    char *base = rk->msg;
    float *seg = (float *)(base + HEAD);
    double v[RANKS_MAX_VALUES];
    size_t s = lo;
    do {
        size_t e = hi - s > RANKS_SEGMENT ? s + RANKS_SEGMENT : hi, k = e - s;
        int last = e == hi, nvals = last ? nv : 0;
        char *msg = base + HEAD - (size_t)nvals * sizeof(double);
        size_t bytes = (size_t)nvals * sizeof(double) + k * sizeof(float);
        float *restrict d = g0 + s;
        if (me > 0) {    /* the workers before this rank, then its own in order */
            if (recv_from(r, me - 1, msg, bytes, err)) return -1;
            for (size_t i = 0; i < k; i++) d[i] = seg[i] + d[i];
            if (nvals) memcpy(v, msg, (size_t)nvals * sizeof(double));
        } else {
            for (int j = 0; j < nvals; j++) v[j] = 0;
        }
        for (int t = 1; t < threads; t++) {
            const float *restrict gt = work_grad(ws, t) + s;
            for (size_t i = 0; i < k; i++) d[i] += gt[i];
        }
        for (int t = 0; t < threads; t++)
            for (int j = 0; j < nvals; j++) v[j] += vals[t * nv + j];
        if (me < last_rank) {
            const void *out = d;
            if (nvals) {     /* values and floats in one message */
                memcpy(msg, v, (size_t)nvals * sizeof(double));
                memcpy(seg, d, k * sizeof(float));
                out = msg;
            }
            if (send_to(r, me + 1, out, bytes, err)) return -1;
        }
        s = e;
    } while (s < hi);
    /* the last rank holds the total */
    if (broadcast_from(r, last_rank, g0 + lo, (hi - lo) * sizeof(float), err)) return -1;
    if (nv && broadcast_from(r, last_rank, v, (size_t)nv * sizeof(double), err)) return -1;
    for (int j = 0; j < nv; j++) sums[j] = v[j];
    return 0;
}

int ranks_gather(const ae_ranks *r, void *items, size_t item_bytes, int nitems, ae_error *err)
{
    int me = r->rank, last_rank = r->size - 1, off, cnt;
    thread_share(nitems, r->size, me, &off, &cnt);
    /* rank r receives the shares of ranks 0..r-1, adds its own, passes them on */
    if (me > 0 && recv_from(r, me - 1, items, (size_t)off * item_bytes, err)) return -1;
    if (me < last_rank && send_to(r, me + 1, items, (size_t)(off + cnt) * item_bytes, err)) return -1;
    return broadcast_from(r, last_rank, items, (size_t)nitems * item_bytes, err);
}

int ranks_from_root(const ae_ranks *r, int *value, ae_error *err)
{
    int32_t v = *value;
    if (broadcast_from(r, 0, &v, sizeof v, err)) return -1;
    *value = v;
    return 0;
}

/* ---- the start check ------------------------------------------------------------ */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}
#define FNV_START 0xcbf29ce484222325ULL

/* What a rank trains on, as hashes. */
typedef struct {
    uint64_t train, val;          /* pixels and labels                   */
    uint64_t description, weights;
    uint64_t option[AE_MAX_TRAIN_OPTIONS];   /* each option's exact text */
    int32_t  train_n, val_n, threads, checkpoint;
} start_digest;

static uint64_t data_hash(const ae_dataset *d)
{
    if (!d) return 0;
    uint64_t h = train_data_hash(d);
    int32_t shape[4] = { d->n, d->c, d->h, d->w };
    h = fnv(h, shape, sizeof shape);
    return d->labels ? fnv(h, d->labels, (size_t)d->n) : h;
}

static void digest_of(start_digest *g, const ae_model *m, const ae_dataset *train, const ae_dataset *val,
                      const ae_train_options *opt, int threads)
{
    memset(g, 0, sizeof *g);
    g->train = data_hash(train);
    g->val = data_hash(val);
    const char *text = ae_model_description(m);
    g->description = fnv(FNV_START, text, strlen(text));
    g->weights = fnv(FNV_START, m->params, m->nparams * sizeof(float));
    int nrows;
    const ae_train_option *rows = ae_train_options_table(&nrows);
    for (int i = 0; i < nrows && i < AE_MAX_TRAIN_OPTIONS; i++) {
        char value[256];
        ae_train_option_format(&rows[i], opt, AE_OPTION_TEXT_EXACT, value, sizeof value);
        g->option[i] = fnv(FNV_START, value, strlen(value));
    }
    g->train_n = train ? train->n : 0;
    g->val_n = val ? val->n : 0;
    g->threads = threads;
    g->checkpoint = opt->checkpoint != NULL;
}

/* How this rank's digest differs from rank 0's, into msg (empty: same). */
static void compare(const start_digest *mine, const start_digest *root, const ae_dataset *train,
                    const ae_dataset *val, const ae_train_options *opt, char *msg, size_t size)
{
    msg[0] = '\0';
    const char *what = NULL;
    const ae_dataset *d = NULL;
    int n = 0, n0 = 0;
    if (mine->train != root->train) { what = "training"; d = train; n = mine->train_n; n0 = root->train_n; }
    else if (mine->val != root->val) { what = "validation"; d = val; n = mine->val_n; n0 = root->val_n; }
    if (what) {
        snprintf(msg, size, "its %s data (%.200s, %d images) is not rank 0's (%d images%s): every rank "
                 "must load the same data", what, d ? d->source : "none", n, n0,
                 n == n0 ? ", other pixels or labels" : "");
        return;
    }
    if (mine->description != root->description) {
        snprintf(msg, size, "its model description is not rank 0's");
        return;
    }
    if (mine->weights != root->weights) {
        snprintf(msg, size, "its model's starting weights are not rank 0's (another starting model, or option seed)");
        return;
    }
    if (mine->threads != root->threads) {
        snprintf(msg, size, "it runs %d threads, rank 0 runs %d: every rank needs the same option threads",
                 mine->threads, root->threads);
        return;
    }
    int nrows;
    const ae_train_option *rows = ae_train_options_table(&nrows);
    for (int i = 0; i < nrows && i < AE_MAX_TRAIN_OPTIONS; i++) {
        if (rows[i].flags & AE_OPTION_NO_CHECKPOINT) continue;   /* threads: compared resolved */
        if (mine->option[i] == root->option[i]) continue;
        char value[128];
        ae_train_option_format(&rows[i], opt, AE_OPTION_TEXT_SHORT, value, sizeof value);
        /* "option NAME", as every library message names an option
         * (aekit train shows its flag) */
        snprintf(msg, size, "its %s (option %s %s) is not rank 0's", rows[i].what, rows[i].name, value);
        return;
    }
    if (mine->checkpoint != root->checkpoint)
        snprintf(msg, size, "it %s a checkpoint file and rank 0 %s", mine->checkpoint ? "has" : "has no",
                 root->checkpoint ? "has" : "has none");
}

int ranks_start_check(const ae_ranks *r, const ae_model *m, const ae_dataset *train,
                      const ae_dataset *val, const ae_train_options *opt, int threads,
                      const char *local, ae_error *err)
{
    start_digest mine, root;
    digest_of(&mine, m, train, val, opt, threads);
    root = mine;
    if (broadcast_from(r, 0, &root, sizeof root, err)) return -1;
    char why[sizeof err->msg];
    if (local && *local) snprintf(why, sizeof why, "%s", local);
    else compare(&mine, &root, train, val, opt, why, sizeof why);
    return ranks_first_failure(r, why, err);
}

int ranks_first_failure(const ae_ranks *r, const char *why, ae_error *err)
{
    /* the first rank with a complaint, passed along in rank order */
    struct { int32_t rank; char msg[sizeof err->msg]; } first;
    int me = r->rank, last_rank = r->size - 1;
    first.rank = -1;
    first.msg[0] = '\0';
    if (me > 0 && recv_from(r, me - 1, &first, sizeof first, err)) return -1;
    if (first.rank < 0 && why && why[0]) {
        first.rank = me;
        if (me == 0) snprintf(first.msg, sizeof first.msg, "%s", why);
        else snprintf(first.msg, sizeof first.msg, "rank %d: %.*s", me, (int)sizeof first.msg - 16, why);
    }
    if (me < last_rank && send_to(r, me + 1, &first, sizeof first, err)) return -1;
    if (broadcast_from(r, last_rank, &first, sizeof first, err)) return -1;
    if (first.rank >= 0) return ae_fail(err, "%s", first.msg);
    return 0;
}

/* ---- a checkpoint read by rank 0 -------------------------------------------------- */

/* The whole file at path, *size bytes (rank 0). */
static int read_whole(const char *path, void **bytes, size_t *size, ae_error *err)
{
    *bytes = NULL;
    FILE *f = ae_open_file(path, err);
    if (!f) return -1;
    struct stat st;
    int rc = 0;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
        rc = ae_fail(err, "%s: not a regular file", path);
    else if (!(*bytes = malloc(st.st_size ? (size_t)st.st_size : 1)))
        rc = ae_fail(err, "%s: out of memory for its %lld bytes", path, (long long)st.st_size);
    else if (fread(*bytes, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
        rc = ae_fail(err, "%s: read failed: %s", path, ferror(f) ? strerror(errno) : "the file got shorter");
    *size = rc ? 0 : (size_t)st.st_size;
    fclose(f);
    if (rc) {
        free(*bytes);
        *bytes = NULL;
    }
    return rc;
}

int ae_checkpoint_load_ranks(const char *path, const ae_ranks *r, ae_model **model, ae_train_options *opt,
                             ae_train_state **state, ae_error *err)
{
    if (!r || r->size == 1) return ae_checkpoint_load(path, model, opt, state, err);
    *model = NULL;
    *state = NULL;
    if (ranks_valid(r, err)) return -1;
    void *bytes = NULL;
    size_t size = 0;
    int rc = -1;
    ae_error local = {{0}};
    /* rank 0 reads the file and tells its size (-1: it could not) */
    int64_t n = -1;
    if (r->rank == 0 && read_whole(path, &bytes, &size, &local) == 0) n = (int64_t)size;
    if (broadcast_from(r, 0, &n, sizeof n, err)) goto done;
    if (n < 0) {
        if (r->rank == 0) ae_fail(err, "%s", local.msg);
        else ae_fail(err, "rank 0 could not read the checkpoint %s", path);
        goto done;
    }
    size = (size_t)n;
    if (r->rank > 0 && !(bytes = malloc(size ? size : 1)))
        ae_fail(&local, "out of memory for the %zu bytes of the checkpoint %s", size, path);
    if (ranks_first_failure(r, local.msg, err)) goto done;
    if (broadcast_from(r, 0, bytes, size, err)) goto done;
    /* every rank reads the same bytes: they fail alike, but for memory */
    local.msg[0] = '\0';
    checkpoint_load_memory(bytes, size, path, model, opt, state, &local);
    rc = ranks_first_failure(r, local.msg, err);
done:
    free(bytes);
    if (rc && *model) {
        ae_train_state_free(*state);
        ae_model_free(*model);
        *model = NULL;
        *state = NULL;
    }
    return rc;
}
