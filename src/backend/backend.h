/* The backend interface: a table of functions that own tensor memory
 * (allocate, free, copy to and from the host) and run every kernel of
 * kernels.h, and the kernel context that carries a backend and its state.
 * Nothing outside src/backend knows which backend runs; nothing switches on
 * one. Two implementations:
 *   - ref (src/backend/ref.c): the plain C reference kernels, each in its op
 *     family's file under src/ops;
 *   - cpu (src/backend/cpu/): oneDNN convolutions, transposed convolutions
 *     and linears, optimised normalisations, and the references for the
 *     kernels simple enough to be their own.
 * Both keep tensors in host memory. A backend whose memory is elsewhere (a
 * GPU) is one more table: callers reach tensor memory only through it (the
 * host reads and writes it through to_host, from_host and map). Adding one:
 * fill a ug_backend (memory, sync, ctx_init/ctx_free for its state in
 * k->impl, every kernel of UG_KERNELS), run it with ug_kctx_new_backend, and
 * hold its kernels to the references as tests/test_backend.c does. */
#ifndef UG_BACKEND_H
#define UG_BACKEND_H

#include <stddef.h>

#include "backend/kernels.h"
#include "core/error.h"

typedef struct ug_backend ug_backend;

struct ug_backend {
    const char *name;
    /* 1: its memory is the host's, so a host array may go to its kernels as
     * it is (inputs are not uploaded); 0: inputs are copied in (from_host). */
    int host_memory;
    /* Memory: alloc's contents are undefined (zero them with zero), 64-byte
     * aligned, NULL when out of memory; free(NULL) does nothing. to_host and
     * from_host copy between backend and host memory, copy within the
     * backend. */
    void *(*alloc)(size_t bytes);
    void (*free)(void *p);
    void (*to_host)(void *host, const void *src, size_t bytes);
    void (*from_host)(void *dst, const void *host, size_t bytes);
    void (*copy)(void *dst, const void *src, size_t bytes);
    void (*zero)(void *p, size_t bytes);
    /* Host access in place: map gives a host pointer to bytes of backend
     * memory p (NULL when out of memory), unmap ends it, writing the host's
     * changes back when written != 0. Host-resident backends return p and
     * copy nothing. */
    void *(*map)(void *p, size_t bytes);
    void (*unmap)(void *p, void *host, size_t bytes, int written);
    /* Waits until every kernel queued on k has finished. */
    void (*sync)(ug_kctx *k);
    /* The backend's own state in a new context (k->impl), and its end. */
    int (*ctx_init)(ug_kctx *k, ug_error *err);
    void (*ctx_free)(ug_kctx *k);
    /* 1 when its convolution of shape s (layouts ignored) computes in
     * channel-blocked layouts (kernels.h), so that inference keeps images
     * blocked around it; NULL: never. */
    int (*conv_blocked)(ug_kctx *k, const ug_conv_shape *s);
    /* One function per kernel. */
#define UG_BE_R(type, name, params, args) type(*name) params;
#define UG_BE_V(name, params, args) void(*name) params;
    UG_KERNELS(UG_BE_R, UG_BE_V)
#undef UG_BE_R
#undef UG_BE_V
};

extern const ug_backend ug_backend_ref, ug_backend_cpu;
/* The backend of memory made without a context (a network's parameters
 * before any context exists): the CPU backend's host memory. */
const ug_backend *ug_backend_default(void);
/* A backend whose memory is the host's (for host-side tables in an arena). */
const ug_backend *ug_backend_host(void);

/* The kernel context: a backend and what its kernels keep between calls. One
 * per thread of control; not shared. */
struct ug_kctx {
    const ug_backend *be;
    void *impl;           /* the backend's state (cpu: oneDNN engine, stream, primitives) */
    float *scratch;       /* ug_kctx_scratch's buffer, backend memory */
    size_t scratch_count;
    double flops;
    int no_winograd;
    int no_blocked;
    int bf16;
};

/* reference != 0: the ref backend, every kernel its plain C reference;
 * otherwise the cpu backend. */
ug_kctx *ug_kctx_new(int reference, ug_error *err);
ug_kctx *ug_kctx_new_backend(const ug_backend *be, ug_error *err);
void ug_kctx_free(ug_kctx *k);
int ug_kctx_reference(const ug_kctx *k);
/* A float buffer of at least count elements of backend memory owned by the
 * context, valid until the next call of ug_kctx_scratch on the same
 * context. NULL when out of memory. */
float *ug_kctx_scratch(ug_kctx *k, size_t count);

/* Winograd convolutions (3x3, stride 1) on the fast path: on by default;
 * off gives direct convolutions only. */
void ug_kctx_set_winograd(ug_kctx *k, int on);
int ug_kctx_winograd(const ug_kctx *k);

/* Channel-blocked images between the convolutions of a forward pass without
 * a tape, where the backend's conv_blocked asks for them: on by default;
 * off keeps every image plain. ug_kctx_conv_blocked: whether convolution s
 * runs blocked on k. */
void ug_kctx_set_blocked(ug_kctx *k, int on);
int ug_kctx_conv_blocked(ug_kctx *k, const ug_conv_shape *s);

/* bf16 forward convolutions on the fast path (inference): inputs and
 * weights rounded to bfloat16 on their way into oneDNN's layouts, products
 * summed and returned in fp32. Off by default; backward passes and the
 * reference kernels are always fp32. */
void ug_kctx_set_bf16(ug_kctx *k, int on);
/* 0 when this machine can run them (oneDNN may use AVX512-BF16: the CPU has
 * it and ONEDNN_MAX_CPU_ISA does not cap it away); otherwise -1 with a
 * one-line error naming the missing instruction set and why. */
int ug_kctx_bf16_check(ug_error *err);
int ug_kctx_bf16(const ug_kctx *k);

/* Floating-point operations done by the convolution and linear kernels on
 * this context so far (2 per multiply-add, forward and backward), for
 * benchmarks; ug_kctx_add_flops is the kernels' side. */
double ug_kctx_flops(const ug_kctx *k);
void ug_kctx_add_flops(ug_kctx *k, double flops);

/* The callers' side: ug_conv_forward(k, ...) runs k's backend's conv_forward. */
#define UG_BE_R(type, name, params, args) \
    static inline type ug_##name params { return k->be->name args; }
#define UG_BE_V(name, params, args) \
    static inline void ug_##name params { k->be->name args; }
UG_KERNELS(UG_BE_R, UG_BE_V)
#undef UG_BE_R
#undef UG_BE_V

/* The plain C references (each in its op family's file under src/ops). */
#define UG_BE_R(type, name, params, args) type ug_##name##_ref params;
#define UG_BE_V(name, params, args) void ug_##name##_ref params;
UG_KERNELS(UG_BE_R, UG_BE_V)
#undef UG_BE_R
#undef UG_BE_V

#endif
