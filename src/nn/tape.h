/* One forward call of a network, recorded so that it can be run backward:
 * every node's output, what the backward pass needs (normalisation statistics,
 * max-pool positions), and the spectrally normalised weights with the u, v
 * this call used. Everything lives in the caller's arena, so a training step
 * allocates nothing once the arena has grown to its size.
 *
 * Backward: seed the gradient of an output with ug_tape_grad() (losses
 * accumulate into it), then ug_tape_backward() runs the graph in reverse,
 * accumulating parameter gradients into net->grad. */
#ifndef UG_TAPE_H
#define UG_TAPE_H

#include "core/arena.h"
#include "kernels/kernels.h"
#include "nn/net.h"

typedef struct ug_tape {
    ug_net *net;
    int N;
    float **out;        /* per node: output, N x C x H x W */
    void **aux;         /* per node: saved statistics or positions */
    float **grad;       /* per node: gradient of the output, NULL until written */
    float **w_eff;      /* per parameter: spectrally normalised weight, or NULL */
    float **sn_uv;      /* per parameter: copy of u then v as this call used them */
    float *sigma;       /* per parameter */
    float **dw_eff;     /* per parameter: gradient of w_eff */
} ug_tape;

/* Runs the network on input (N x 3 x H x W, H = W = the size it was built for).
 * sn_update != 0 is PyTorch's training mode: every spectral norm advances its
 * u and v by one power iteration, in net->data. */
int ug_tape_forward(ug_tape *t, ug_kctx *k, ug_arena *a, ug_net *net, const float *input,
                    int N, int sn_update, ug_error *err);

static inline const float *ug_tape_out(const ug_tape *t, int node) { return t->out[node]; }
static inline size_t ug_tape_numel(const ug_tape *t, int node)
{
    const ug_node *n = &t->net->nodes[node];
    return (size_t)t->N * n->C * n->H * n->W;
}

/* The gradient buffer of a node's output, zero-filled on first use. */
float *ug_tape_grad(ug_tape *t, ug_arena *a, int node);

/* Runs backward from every node whose gradient was seeded. param_grads == 0
 * skips the parameter gradients (a discriminator seen from the generator's
 * loss); input_grad == 0 skips the gradient of the input image, which is
 * otherwise left in t->grad[0]. */
int ug_tape_backward(ug_tape *t, ug_kctx *k, ug_arena *a, int param_grads, int input_grad,
                     ug_error *err);

#endif
