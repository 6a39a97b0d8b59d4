/* One forward call of a network, recorded so that it can be run backward:
 * every node's output, what the backward pass needs (normalisation statistics,
 * max-pool positions), and the sigma, u, v of the spectral norms of this call. Everything lives in the caller's arena, so a training step
 * allocates nothing once the arena has grown to its size.
 *
 * Backward: seed the gradient of an output with ug_tape_grad() (losses
 * accumulate into it), then ug_tape_backward() runs the graph in reverse,
 * accumulating parameter gradients into net->grad. */
#ifndef UG_TAPE_H
#define UG_TAPE_H

#include <stdio.h>

#include "core/arena.h"
#include "backend/backend.h"
#include "nn/net.h"

/* PyTorch's module modes: in training mode every spectral norm advances its
 * u and v by one power iteration (in net->data), and BatchNorm normalises by
 * the batch's statistics and moves its running ones. */
typedef enum { UG_EVAL, UG_TRAIN } ug_mode;

typedef struct ug_tape {
    ug_net *net;
    int N;
    ug_mode mode;
    float **out;        /* per node: output, N x C x H x W */
    void **aux;         /* per node: saved statistics or positions */
    float **grad;       /* per node: gradient of the output, NULL until written */
    unsigned char *blocked; /* per node: its output is channel-blocked (kernels.h); only a
                               forward pass without a tape makes any */
    float **plain;      /* per node: a plain copy of a blocked output that a reader of
                           plain images needed, or NULL */
    float **sn_uv;      /* per spectrally normalised parameter: u then v as this call
                           used them (NULL for the others); W / sigma itself is
                           recomputed where needed, never stored */
    float *sigma;       /* per parameter */
} ug_tape;

/* Runs the network on inputs[i] for its i-th named input (N x C x H x W at
 * the shape it was built for). */
int ug_tape_forward(ug_tape *t, ug_kctx *k, ug_arena *a, ug_net *net,
                    const float *const *inputs, int N, ug_mode mode, ug_error *err);

/* The same forward pass for when no backward will follow (evaluation, or a
 * generator whose output a discriminator only reads): a node's output buffer
 * is recycled once its last consumer has run, and element-wise nodes write
 * over their dying input, so the arena holds only the live tensors. Only
 * the network's named outputs are left in t->out (the others are NULL);
 * ug_tape_backward must not be called on this tape. */
int ug_tape_forward_nograd(ug_tape *t, ug_kctx *k, ug_arena *a, ug_net *net,
                           const float *const *inputs, int N, ug_mode mode, ug_error *err);
/* The same for the outputs in the mask outputs only (bit o: the network's
 * output o, in the order they were added): the nodes that lead to none of
 * them are not run, and the other outputs are left NULL (a network that
 * computes both domains, of which a translation needs one). */
int ug_tape_forward_outputs(ug_tape *t, ug_kctx *k, ug_arena *a, ug_net *net,
                            const float *const *inputs, int N, ug_mode mode, unsigned outputs,
                            ug_error *err);

static inline const float *ug_tape_out(const ug_tape *t, int node) { return t->out[node]; }
static inline size_t ug_tape_numel(const ug_tape *t, int node)
{
    const ug_node *n = &t->net->nodes[node];
    return (size_t)t->N * n->C * n->H * n->W;
}

/* The output NAME of the network's last forward call; NULL when it has none. */
const float *ug_tape_output(const ug_tape *t, const char *name);

/* The gradient buffer of a node's output, zero-filled on first use. */
float *ug_tape_grad(ug_tape *t, ug_arena *a, int node);

/* Runs backward from every node whose gradient was seeded. param_grads == 0
 * skips the parameter gradients (a discriminator seen from the generator's
 * loss); input_grad == 0 skips the gradients of the inputs, which are
 * otherwise left in t->grad[input node]. As it goes it hands every node's
 * output and gradient back to the arena (all but the inputs'), so afterwards
 * t->out[i] and t->grad[i] are NULL for the others: read the outputs before.
 *
 * The recording forward pass keeps only what backward reads: t->out[i] of a
 * reflection pad read by a single convolution is NULL (recomputed when the
 * weight gradient needs it), and a ReLU that is its input's only reader
 * shares that input's buffer (see tape.c). */
int ug_tape_backward(ug_tape *t, ug_kctx *k, ug_arena *a, int param_grads, int input_grad,
                     ug_error *err);

/* Profiling (off by default, process-wide, not thread-safe): while enabled,
 * every node run forward or backward adds its wall time to a table keyed by
 * op and shapes; ug_tape_profile_print writes the table, largest total
 * first, and clears it. For benchmarks (bench/bench.c --profile). */
void ug_tape_profile_enable(int on);
void ug_tape_profile_print(FILE *f);

#endif
