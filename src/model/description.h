/* A model description as data: what the text of docs/model-format.md says,
 * parsed once. The model is built from this structure (build.c), and the
 * text a model file carries is printed from it, so changing the loss edits
 * the structure and never the text. The structure keeps the text's lines in
 * order, comments and blank lines included: printing gives the same number
 * of lines (error messages' line numbers stay true for the saved text), each
 * line's words in one canonical spelling. */
#ifndef AEKIT_MODEL_DESCRIPTION_H
#define AEKIT_MODEL_DESCRIPTION_H

#include "aekit.h"

typedef enum {
    L_CONV, L_MAXPOOL, L_AVGPOOL, L_UPSAMPLE, L_DENSE, L_FLATTEN, L_RESHAPE,
    L_RELU, L_LEAKY_RELU, L_SIGMOID, L_TANH, L_SAMPLE, L_CONDITION,
    L_KIND_COUNT
} layer_kind;

enum { PART_ENCODER = 0, PART_DECODER = 1, PART_DISCRIMINATOR = 2 };

/* The largest height or width a description gives or a layer makes (input,
 * output, reshape, a layer's output): larger is a typo, not an image. */
#define MAX_DIM 65536

/* One layer line's settings (layer_kinds.c says which a kind takes, their
 * ranges and defaults). */
typedef struct {
    layer_kind kind;
    int   part;             /* PART_ENCODER, PART_DECODER, PART_DISCRIMINATOR */
    int   line;             /* line in the text, for messages            */
    int   units;            /* conv: output channels; dense: outputs;
                               condition: the classes (`param classes`)  */
    int   k, stride, pad;   /* conv / pool window; pad -1 = same         */
    int   ceil_mode;        /* pools                                     */
    int   scale;            /* upsample factor                           */
    int   has_bias;
    float slope;            /* leaky_relu                                */
    int   shape[3];         /* reshape C H W                             */
} layer_spec;

typedef enum {
    LINE_BLANK,             /* nothing but maybe a comment */
    LINE_INPUT, LINE_OUTPUT, LINE_PARAM, LINE_CLASSES, LINE_LOSS, LINE_SECTION, LINE_LAYER
} line_type;

typedef struct {
    line_type type;
    int   value;            /* LINE_PARAM: its latent; LINE_SECTION: the part;
                               LINE_LAYER: index into layers                */
    char *comment;          /* the text after '#', or NULL                  */
} desc_line;

typedef struct {
    int in_c, in_h, in_w;
    int has_output;         /* an `output` line; else output = input     */
    int out_c, out_h, out_w;
    ae_loss loss;           /* bce unless a `loss` line says             */
    int classes;            /* `param classes N`: the labels a `condition`
                               layer takes one-hot (0: unconditional)    */
    layer_spec *layers;
    int nlayers;
    int n_encoder;          /* layers [0, n_encoder) are the encoder     */
    int n_autoencoder;      /* then the decoder up to here, then the discriminator */
    desc_line *lines;       /* the text, line by line                    */
    int nlines;
} ae_description;

/* The most classes a conditional model takes (labels are bytes). */
#define MAX_CLASSES 256

/* Parses a description. `latent` replaces {latent} (and 2*latent replaces
 * {latent2}) in the text; 0 = the text's `param latent N` default. Every
 * error names `origin` and, where there is one, the line. */
int   description_parse(ae_description *d, const char *text, const char *origin, int latent, ae_error *err);
/* The canonical text: parsing it gives an equal structure. NULL when out
 * of memory. The caller frees it. */
char *description_print(const ae_description *d);
/* 1 when a and b are the same description (lines, comments, settings). */
int   description_equal(const ae_description *a, const ae_description *b);
/* Sets the loss, adding a `loss` line before the first section when the
 * text has none (*added gets its index, else -1). Does not check it
 * against the layers (build.c does). -1 when out of memory (d unchanged). */
int   description_set_loss(ae_description *d, ae_loss loss, int *added);
/* Undoes description_set_loss: the loss back to `old`, the line it added
 * (index `added`, -1 for none) removed. */
void  description_undo_set_loss(ae_description *d, ae_loss old, int added);
void  description_free(ae_description *d);

/* "encoder", "decoder" or "discriminator": a PART_ value's section word,
 * also the first word of its tensors' names. */
const char *description_part_name(int part);

#endif
