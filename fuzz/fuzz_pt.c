/* libFuzzer target: a .pt reader on arbitrary bytes, with limits small
 * enough for the fuzzer's memory budget. Built twice: fuzz_pt reads the zip
 * format (zip, pickle, storages); fuzz_pt_legacy (UG_FUZZ_LEGACY) the legacy
 * pre-1.6 format (pickles back to back, then the storages), where nothing is
 * CRC-checked, so mutations reach the pickles and the storage section
 * directly. */
#include <stddef.h>
#include <stdint.h>

#include "io/pt.h"

#ifdef UG_FUZZ_LEGACY
#define OPEN_MEM ug_pt_legacy_open_mem
#else
#define OPEN_MEM ug_pt_open_mem
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile float sink; /* keeps the reads from being optimised away */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ug_pt_limits lim;
    ug_pt_limits_default(&lim);
    lim.max_pickle_bytes = 1 << 20;
    lim.max_objects = 1 << 16;
    lim.max_tensor_bytes = 64 << 20;
    lim.single_group = "genA2B";
    ug_st_file *f;
    ug_error err;
    if (OPEN_MEM(&f, data, size, "fuzz.pt", &lim, &err) == 0) {
        for (size_t i = 0; i < ug_st_count(f); i++) {
            const ug_st_tensor *t = ug_st_at(f, i);
            for (size_t j = 0; j < t->numel; j++)
                sink += t->data[j];
        }
        ug_st_close(f);
    }
    return 0;
}
