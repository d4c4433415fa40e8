/* Training across processes (ae_train_ranks): the sums and gathers over
 * the caller's ae_ranks calls, each in a fixed order, and the check that
 * every rank starts the same run (ranks.c). */
#ifndef AEKIT_MODEL_RANKS_H
#define AEKIT_MODEL_RANKS_H

#include <stddef.h>
#include "aekit.h"
#include "model/model.h"

/* Floats per message of the chained gradient sum: the sum is pipelined,
 * rank r adds segment k while rank r+1 adds segment k-1. */
#define RANKS_SEGMENT 65536
/* Per-thread values (losses, counts) that ride along with a gradient sum. */
#define RANKS_MAX_VALUES 4

/* A run's ranks: r NULL for one process; msg, the buffer of one message
 * of the chained sum (ranks_msg_new). */
typedef struct {
    const ae_ranks *r;
    void *msg;
} ranks_run;

/* Checks r's fields (rank in 0..size-1, the three calls given). */
int  ranks_valid(const ae_ranks *r, ae_error *err);
int  ranks_msg_new(ranks_run *rk, ae_error *err);
void ranks_msg_free(ranks_run *rk);

/* Sums every worker's gradient slice [lo, hi) into work_grad(ws, 0) on
 * every rank, and the per-thread values vals[t * nv + k] (nv <= 4) into
 * sums[k]. Worker w = rank * threads + t; the sum runs in worker order,
 * ((w0 + w1) + w2) + ..., as one process adds its threads' gradients
 * (train.c), so the bits are those of one process with size x threads
 * threads: rank r receives the sum of the workers before it from rank
 * r-1, adds its own threads' in order and passes it on; the last rank
 * broadcasts the total. */
int  ranks_sum_grads(const ranks_run *rk, ae_workspace *ws, int threads, size_t lo, size_t hi,
                     const double *vals, int nv, double *sums, ae_error *err);
/* nitems items of item_bytes each (model_evaluate's and model_fit_latent's
 * per-chunk sums), of which rank r has filled its share
 * thread_share(nitems, size, r): afterwards every rank holds all of them. */
int  ranks_gather(const ae_ranks *r, void *items, size_t item_bytes, int nitems, ae_error *err);
/* *value on every rank becomes rank 0's. */
int  ranks_from_root(const ae_ranks *r, int *value, ae_error *err);
/* Every rank learns the first rank (in rank order) whose `why` is not
 * empty (NULL: none): 0 on every rank, or -1 on every rank with its
 * message, "rank R: why" (rank 0's without the prefix). */
int  ranks_first_failure(const ae_ranks *r, const char *why, ae_error *err);
/* The start of a run: every rank compares what it trains on (data, model,
 * options, thread count) with rank 0's, and learns the first rank (in rank
 * order) that differs or has its own error `local` (NULL: none). Returns
 * 0 on every rank, or -1 on every rank with that rank's message. */
int  ranks_start_check(const ae_ranks *r, const ae_model *m, const ae_dataset *train,
                       const ae_dataset *val, const ae_train_options *opt, int threads,
                       const char *local, ae_error *err);

#endif
