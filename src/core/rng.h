/* A small seeded random generator (PCG32, O'Neill 2014). Its whole state is
 * two integers, so a checkpoint can store it and a resumed run continues the
 * same stream. */
#ifndef UG_RNG_H
#define UG_RNG_H

#include <stdint.h>

typedef struct ug_rng {
    uint64_t state, inc;
} ug_rng;

void ug_rng_seed(ug_rng *r, uint64_t seed, uint64_t stream);
uint32_t ug_rng_u32(ug_rng *r);
/* Uniform in [0, 1). */
double ug_rng_uniform(ug_rng *r);
/* Uniform in [0, n) without modulo bias. */
uint32_t ug_rng_below(ug_rng *r, uint32_t n);
/* Standard normal (Box-Muller; two uniforms per draw, no cached second value,
 * so the state stays two integers). */
double ug_rng_normal(ug_rng *r);

#endif
