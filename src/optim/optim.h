/* Optimisers: one update over a flat parameter array, using PyTorch's update
 * rules (torch.optim 1.13) so that parity fixtures match step for step, and
 * the table of optimiser kinds (optim.c): per kind its name, its state
 * buffers (named as PyTorch's state_dict names them, which is how
 * checkpoints store them), the options it reads and its update.
 * State arrays (m, v, ...) are zero-initialised by the caller.
 * Hyperparameters are doubles, as PyTorch's Python floats are: 1 - 0.999f
 * is not 0.001, and the difference shows in parity tests.                 */
#ifndef AEKIT_OPTIM_H
#define AEKIT_OPTIM_H

#include <stddef.h>
#include "aekit.h"

/* Adam (Kingma & Ba), bias-corrected; step t counts from 1; with weight
 * decay, AdamW's decoupled form (torch.optim.AdamW) first: p *= 1 - lr wd.
 * m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 * p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)                    */
void adam_update(float *p, const float *g, float *m, float *v, size_t count,
                 double lr, double beta1, double beta2, double eps, long t, double weight_decay);

/* RMSprop (PyTorch form, no momentum, not centred; weight decay as
 * PyTorch's, L2: g += wd p first):
 * s = alpha s + (1-alpha) g^2;  p -= lr * g / (sqrt(s) + eps)              */
void rmsprop_update(float *p, const float *g, float *s, size_t count,
                    double lr, double alpha, double eps, double weight_decay);

/* SGD with momentum (PyTorch form, dampening 0, not Nesterov; weight decay
 * L2, g += wd p first): buf = momentum buf + g;  p -= lr * buf. momentum 0
 * is plain SGD.                                                             */
void sgd_update(float *p, const float *g, float *buf, size_t count,
                double lr, double momentum, double weight_decay);

/* ---- optimiser kinds ---------------------------------------------------------- */

enum { OPTIM_MAX_BUFFERS = 2 };

/* One optimiser's state over parameters [lo, hi): its buffers (Adam's two
 * moments, RMSprop's mean square, SGD's momentum buffer), each indexed like
 * the model's parameters (buf[k][lo] is parameter lo's; one allocation,
 * buf[0]). t counts the updates (Adam's bias correction). */
typedef struct {
    float *buf[OPTIM_MAX_BUFFERS];
    int    nbuf;
    size_t lo, hi;
    long   t;
} optim_state;

typedef struct {
    int         nbuf;
    const char *buf_names[OPTIM_MAX_BUFFERS];   /* PyTorch's: "exp_avg", ...   */
    int         buf_squares[OPTIM_MAX_BUFFERS]; /* 1: a mean of squares (>= 0, +inf
                                                   once a square overflowed)   */
    const char *options;                        /* the options it reads        */
    /* updates p[0, count) from g with bufs (already offset like p) */
    void (*update)(float *p, const float *g, float *const *bufs, size_t count,
                   const ae_train_options *o, long t);
} optim_kind;

/* The kind of k, or NULL when k is none. */
const optim_kind *optim_kind_of(ae_optimizer k);
/* The optimisers' names by ae_optimizer value, NULL-terminated. */
extern const char *const optim_names[];
/* The kind named `name`, or -1. */
int  optim_by_name(const char *name);

/* Zeroed buffers of kind k over [lo, hi) of nparams parameters; -1 when out
 * of memory. */
int  optim_state_alloc(optim_state *st, ae_optimizer k, size_t nparams, size_t lo, size_t hi);
void optim_state_free(optim_state *st);
/* One update of params [st->lo, st->hi) from gradient g (indexed like
 * params), split over `threads` threads (each its own slice: the same
 * result for any split), at learning rate o->lr (train.c passes the
 * options with the schedule's rate of the step) and o->weight_decay. */
void optim_step(const ae_train_options *o, optim_state *st, float *params, const float *g, int threads);

#endif
