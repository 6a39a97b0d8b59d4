/* The kernel context (backend.h): a backend, its state, and what every
 * backend's kernels share (the scratch buffer, the flop count, the
 * convolution switches). */
#include <stdlib.h>

#include "backend/backend.h"

const ug_backend *ug_backend_default(void) { return &ug_backend_cpu; }
const ug_backend *ug_backend_host(void) { return &ug_backend_cpu; }

ug_kctx *ug_kctx_new_backend(const ug_backend *be, ug_error *err)
{
    ug_kctx *k = calloc(1, sizeof *k);
    if (!k) {
        ug_fail(err, "kernel context: out of memory");
        return NULL;
    }
    k->be = be;
    if (be->ctx_init && be->ctx_init(k, err) < 0) {
        free(k);
        return NULL;
    }
    return k;
}

ug_kctx *ug_kctx_new(int reference, ug_error *err)
{
    return ug_kctx_new_backend(reference ? &ug_backend_ref : &ug_backend_cpu, err);
}

void ug_kctx_free(ug_kctx *k)
{
    if (!k)
        return;
    if (k->be->ctx_free)
        k->be->ctx_free(k);
    k->be->free(k->scratch);
    free(k);
}

int ug_kctx_reference(const ug_kctx *k) { return k->be == &ug_backend_ref; }

float *ug_kctx_scratch(ug_kctx *k, size_t count)
{
    if (count > k->scratch_count) {
        /* The contents need not survive, so free + alloc (no copy). */
        k->be->free(k->scratch);
        k->scratch = k->be->alloc((count ? count : 1) * sizeof(float));
        k->scratch_count = k->scratch ? count : 0;
    }
    return k->scratch;
}

void ug_kctx_set_winograd(ug_kctx *k, int on) { k->no_winograd = !on; }
int ug_kctx_winograd(const ug_kctx *k) { return !k->no_winograd; }
void ug_kctx_set_bf16(ug_kctx *k, int on) { k->bf16 = on != 0; }
int ug_kctx_bf16(const ug_kctx *k) { return k->bf16; }
double ug_kctx_flops(const ug_kctx *k) { return k->flops; }
void ug_kctx_add_flops(ug_kctx *k, double flops) { k->flops += flops; }
void ug_kctx_set_blocked(ug_kctx *k, int on) { k->no_blocked = !on; }
int ug_kctx_conv_blocked(ug_kctx *k, const ug_conv_shape *s)
{
    return !k->no_blocked && k->be->conv_blocked && k->be->conv_blocked(k, s);
}
