/* Host memory for the backends that keep tensors in it (ref and cpu):
 * 64-byte aligned allocations, memcpy for every copy, map and unmap that
 * hand back the pointer itself. */
#ifndef UG_BACKEND_HOST_H
#define UG_BACKEND_HOST_H

#include <stddef.h>

#include "backend/backend.h"

void *ug_host_alloc(size_t bytes);
void ug_host_free(void *p);
void ug_host_copy(void *dst, const void *src, size_t bytes);
void ug_host_zero(void *p, size_t bytes);
void *ug_host_map(void *p, size_t bytes);
void ug_host_unmap(void *p, void *host, size_t bytes, int written);
/* Nothing is ever queued: every host kernel has finished when it returns. */
void ug_host_sync(ug_kctx *k);

/* The table's memory entries, in ug_backend's order. */
#define UG_HOST_MEMORY                                                                         \
    .alloc = ug_host_alloc, .free = ug_host_free, .to_host = ug_host_copy,                     \
    .from_host = ug_host_copy, .copy = ug_host_copy, .zero = ug_host_zero, .map = ug_host_map, \
    .unmap = ug_host_unmap, .sync = ug_host_sync, .host_memory = 1

#endif
