/* Layer kinds in one table: per kind its name in descriptions, its
 * arguments (ranges, defaults, how the canonical text spells them), shape
 * inference, forward, backward and the fans of its weight initialisation.
 * Adding a layer kind = its kernels in src/layers/ + one entry in
 * layer_kinds.c (+ its L_ name in description.h). The kernels stay plain
 * functions; the table only wires them to the model's layers. */
#ifndef AEKIT_MODEL_LAYER_KINDS_H
#define AEKIT_MODEL_LAYER_KINDS_H

#include <stddef.h>
#include "model/model.h"

typedef enum {
    ARG_INT,                /* an integer from lo to hi               */
    ARG_FLOAT,              /* a finite number                        */
    ARG_PAD                 /* same, valid or an integer from lo to hi */
} arg_type;

typedef struct {
    const char *key;        /* option key ("k" in k=3); NULL: positional */
    const char *what;       /* its name in messages ("conv channels")  */
    arg_type type;
    int    lo, hi;
    size_t field;           /* offsetof(layer_spec, ...)               */
    float  dflt;            /* the value when not given                */
    int    always_print;    /* canonical text shows it even at its default */
} layer_arg;

/* n images through one layer: y [n, out] from x [n, in]. W and B are the
 * layer's weight and bias (B NULL without bias), ws the kernel scratch,
 * eps the layer's per-image side input: for `sample` the sampling noise
 * (NULL: no noise), for `condition` the one-hot labels [n, classes]. */
typedef void layer_forward_fn(const ae_layer *l, const float *W, const float *B, const float *x,
                              float *y, int n, float *ws, const float *eps);
/* The gradient dx (NULL: not wanted) from dy, the forward's input x and
 * output y; parameter gradients accumulate into dW, dB. */
typedef void layer_backward_fn(const ae_layer *l, const float *W, float *dW, float *dB, float *dx,
                               const float *dy, const float *x, const float *y, int n, float *ws,
                               const float *eps, float kl_scale);
/* Fills l's output shape and parameter shape from its input shape (set in
 * l->in_c, in_h, in_w). On error, writes a message without the location to
 * msg and returns -1. */
typedef int layer_infer_fn(ae_layer *l, char *msg, size_t size);
/* Glorot-uniform fans of the layer's weight. */
typedef void layer_fans_fn(const ae_layer *l, double *fan_in, double *fan_out);

typedef struct {
    const char *name;
    int min_args, max_args;     /* positional numbers: args[0 .. max_args) */
    const layer_arg *args;      /* positional, then key=value options      */
    int nargs;
    int pool_words;             /* takes the words `ceil` and `floor`      */
    layer_infer_fn *infer;
    layer_forward_fn *forward;
    layer_backward_fn *backward;
    layer_fans_fn *fans;        /* NULL: the kind has no parameters        */
} layer_kind_info;

extern const layer_kind_info layer_kinds[L_KIND_COUNT];

/* The kind named `name`, or -1. */
int layer_kind_find(const char *name);

#endif
