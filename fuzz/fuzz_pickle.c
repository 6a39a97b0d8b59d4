/* libFuzzer target: the restricted unpickler and the flattening of its
 * result, on arbitrary bytes. fuzz_pt rarely gets this far, since a mutated
 * data.pkl inside a zip fails its CRC check first. */
#include <stddef.h>
#include <stdint.h>

#include "io/pickle.h"
#include "io/pt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile int64_t sink; /* keeps the reads from being optimised away */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ug_pk_limits lim = {1 << 16, 32};
    ug_pickle *p;
    ug_error err;
    if (ug_pk_load(&p, data, size, &lim, "fuzz.pkl", &err) < 0)
        return 0;
    ug_pt_item *items;
    size_t n;
    if (ug_pt_flatten(ug_pk_root(p), &items, &n, "fuzz.pkl", "genA2B", &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            const ug_pk_obj *t = items[i].tensor;
            sink += t->offset + t->storage->i + (int64_t)t->storage->s[0];
            for (int d = 0; d < t->ndim; d++)
                sink += t->size[d] ^ t->stride[d];
        }
    }
    ug_pt_items_free(items, n);
    ug_pk_free(p);
    return 0;
}
