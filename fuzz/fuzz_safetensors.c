/* libFuzzer target: the safetensors reader on arbitrary bytes. Any input
 * must give a file or an error, never a crash, leak or undefined behaviour. */
#include <stddef.h>
#include <stdint.h>

#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile float sink; /* keeps the reads from being optimised away */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ug_st_file *f;
    ug_error err;
    if (ug_st_open_mem(&f, data, size, "fuzz.safetensors", &err) == 0) {
        /* Touch every element so that a wrong size shows up under ASan. */
        for (size_t i = 0; i < ug_st_count(f); i++) {
            const ug_st_tensor *t = ug_st_at(f, i);
            for (size_t j = 0; j < t->numel; j++)
                sink += t->data[j];
            (void)ug_st_find(f, t->name);
        }
        (void)ug_st_meta(f, "ch");
        ug_st_close(f);
    }
    return 0;
}
