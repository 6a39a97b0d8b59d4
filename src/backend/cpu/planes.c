/* planes.h's kernels on each code path, and the choice among them. */
#include "backend/cpu/planes.h"

#include "backend/cpu/winograd.h"

#define WT
#define PLANES_TABLE planes_plain
#include "backend/cpu/planes_simd.h"

#if defined(__x86_64__) || defined(__i386__)
#define WT __attribute__((target("avx2,fma")))
#define PLANES_TABLE planes_avx2
#include "backend/cpu/planes_simd.h"

#define WT __attribute__((target("avx512f")))
#define PLANES_TABLE planes_avx512
#include "backend/cpu/planes_simd.h"
#endif

const ug_planes_kernels *ug_planes_best(void)
{
#if defined(__x86_64__) || defined(__i386__)
    const ug_wino_isa isa = ug_wino_isa_best();
    if (isa == UG_WINO_AVX512)
        return &planes_avx512;
    if (isa == UG_WINO_AVX2)
        return &planes_avx2;
#endif
    return &planes_plain;
}
