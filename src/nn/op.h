/* Ops as data: one table entry per op kind (src/ops/ops.c), each filled in
 * by its op family's file under src/ops. The tape (tape.c) knows no op by
 * name: it asks the entry for the shape of a node, the bytes its backward
 * pass needs saved, how to run it forward and backward, and the flags its
 * memory planning reads. Adding an op is an enum value, a table line and the
 * functions in its family's file. */
#ifndef UG_OP_H
#define UG_OP_H

#include "nn/tape.h"

/* Planning flags. */
enum {
    /* Without a tape, the output may take over its first input's buffer (the
     * kernel reads each element, or each plane's statistics, before it writes). */
    UG_OPF_OVERWRITES_IN0 = 1 << 0,
    /* ... or either input's buffer (an element-wise op of two inputs). */
    UG_OPF_OVERWRITES_ANY = 1 << 1,
    /* The backward pass reads the node's own output. */
    UG_OPF_READS_OUTPUT = 1 << 2,
    /* An activation whose backward reads only its output: in the recording
     * pass it may write over its input (see relu_in_place in tape.c). */
    UG_OPF_ACTIVATION = 1 << 3,
    /* A normalisation that can apply the ReLU that follows it in its own pass. */
    UG_OPF_FUSES_RELU = 1 << 4,
    /* A cheap copy of its input: not kept by the tape when the one node that
     * reads it can make it again (see recomputed in tape.c). */
    UG_OPF_RECOMPUTABLE = 1 << 5,
    /* Reads its input in backward only for a weight gradient, so that input
     * may be a recomputed one. */
    UG_OPF_INPUT_FOR_WGRAD = 1 << 6,
};

/* How a node reads and writes channel-blocked images (kernels.h) in a
 * forward pass without a tape, which keeps images blocked between the
 * convolutions that compute blocked (tape.c plans it; a recording pass, whose
 * backward kernels read plain images, is plain throughout). A network's
 * outputs, and images of one pixel or of channels not a multiple of
 * UG_BLOCK, are always plain. */
typedef enum {
    UG_LAYOUT_PLAIN, /* plain in, plain out: blocked inputs are converted first */
    UG_LAYOUT_ANY,   /* element-wise or a concatenation: blocked out when every input
                        is blocked and of the output's height and width */
    UG_LAYOUT_KEEPS, /* per-channel: blocked out when its first input is blocked */
    UG_LAYOUT_MAKES, /* a convolution that computes blocked: reads its first input as it
                        is, writes blocked */
} ug_layout;

/* The backward pass's state, shared by the tape and the ops' backward functions. */
typedef struct ug_bwd {
    ug_tape *t;
    ug_arena *a;
    int input_grad; /* 0: the network's input needs no gradient */
    int failed;     /* out of memory */
} ug_bwd;

typedef struct ug_op_def {
    const char *name;
    int flags;
    /* Sets nd->C, H, W from its inputs and attributes, after checking every
     * input's and parameter's shape; -1 with a message otherwise. */
    int (*shape)(const ug_net *net, ug_node *nd, ug_error *err);
    /* Bytes of t->aux the backward pass needs (statistics, positions); NULL: none. */
    size_t (*aux_bytes)(const ug_node *nd, int N);
    /* Writes node i's output into out from its first input x (the others from
     * t->out); relu != 0 (UG_OPF_FUSES_RELU ops only) applies a ReLU too. */
    int (*forward)(ug_tape *t, ug_kctx *k, int i, const float *x, float *out, int relu,
                   ug_error *err);
    /* Accumulates the gradients of node i's inputs (ug_bwd_din) and, when
     * param_grads != 0, of its parameters, from t->grad[i]. */
    int (*backward)(ug_bwd *b, ug_kctx *k, int i, int param_grads, ug_error *err);
    /* Node i's layout rule on k; NULL: UG_LAYOUT_PLAIN. */
    ug_layout (*layout)(const ug_tape *t, ug_kctx *k, int i);
} ug_op_def;

/* The rules of the ops that follow their inputs' layout. */
ug_layout ug_layout_any(const ug_tape *t, ug_kctx *k, int i);
ug_layout ug_layout_keeps(const ug_tape *t, ug_kctx *k, int i);

const ug_op_def *ug_op_get(ug_op op);

/* For the ops' functions (defined in tape.c). */
int ug_tape_oom(ug_error *err);
/* The weight a node uses: the parameter, or for a spectrally normalised one
 * W / sigma of this call in the context's scratch; NULL when out of memory. */
const float *ug_tape_weight(const ug_tape *t, ug_kctx *k, int p);
/* Where the gradient of node j goes: *acc = 1 to accumulate into an existing
 * buffer, 0 to overwrite a fresh one; NULL when the input needs none (or
 * out of memory: b->failed). */
float *ug_bwd_din(ug_bwd *b, int j, int *acc);
/* Node j's output made again when the tape did not keep it (t->out[j] ==
 * NULL), into a fresh arena buffer the caller releases; NULL when out of memory. */
float *ug_bwd_recompute(ug_bwd *b, ug_kctx *k, int j);
/* A conv's or linear's weight gradient: the parameter's own gradient, or for
 * a spectrally normalised weight a zeroed scratch that ug_bwd_fold_sn folds
 * into weight_orig's gradient. */
float *ug_bwd_weight_grad(ug_bwd *b, ug_kctx *k, int p);
void ug_bwd_fold_sn(ug_tape *t, ug_kctx *k, int p, const float *dw_sn);

/* Shape-rule helpers for the ops: the node an input refers to (checked), and
 * a parameter's shape against the one expected. */
const ug_node *ug_op_input(const ug_net *net, const ug_node *nd, int j, ug_error *err);
int ug_op_check_param(const ug_net *net, const ug_node *nd, int p, int ndim,
                      const int64_t *shape, ug_error *err);
/* The bias parameter p[1], when there is one, holds one value per output. */
int ug_op_check_bias(const ug_net *net, const ug_node *nd, int64_t outputs, ug_error *err);

#endif
