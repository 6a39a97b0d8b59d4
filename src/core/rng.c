#include "core/rng.h"

#include <math.h>

void ug_rng_seed(ug_rng *r, uint64_t seed, uint64_t stream)
{
    r->state = 0;
    r->inc = (stream << 1) | 1u;
    ug_rng_u32(r);
    r->state += seed;
    ug_rng_u32(r);
}

uint32_t ug_rng_u32(ug_rng *r)
{
    uint64_t old = r->state;
    r->state = old * 6364136223846793005ULL + r->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

double ug_rng_uniform(ug_rng *r)
{
    /* 53 random bits from two draws. */
    uint64_t hi = ug_rng_u32(r) >> 5, lo = ug_rng_u32(r) >> 6;
    return (double)(hi * 67108864.0 + lo) / 9007199254740992.0;
}

uint32_t ug_rng_below(ug_rng *r, uint32_t n)
{
    uint32_t threshold = (uint32_t)(-n) % n;
    for (;;) {
        uint32_t x = ug_rng_u32(r);
        if (x >= threshold)
            return x % n;
    }
}

double ug_rng_normal(ug_rng *r)
{
    double u1 = ug_rng_uniform(r), u2 = ug_rng_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
