/* DRIT's training state (drit.h): saved as metadata drit_rng (the
 * generator, two hexadecimal integers), drit_adam (the eight update counts)
 * and drit_last.LOSS (the last full iteration's losses, their mean over the
 * ranks). */
#include <stdio.h>
#include <stdlib.h>

#include "model/drit/drit.h"

#define RNG_STREAM 0x64726974u /* "drit": apart from the initialisation's stream */

int dr_state_new(void **state, const ug_model *m, const ug_train_config *tc, ug_error *err)
{
    (void)m;
    dr_state *p = calloc(1, sizeof *p);
    if (!p)
        return ug_fail(err, "out of memory for the training state");
    ug_rng_seed(&p->rng, tc->seed, RNG_STREAM);
    *state = p;
    return 0;
}

void dr_state_free(void *state) { free(state); }

/* Every rank draws every rank's values, so the generator stays the same on
 * all of them. */
void dr_draw(dr_state *st, const ug_comm *c, float *dst, size_t n)
{
    for (int r = 0; r < c->size; r++)
        for (size_t i = 0; i < n; i++) {
            const float v = (float)ug_rng_normal(&st->rng);
            if (r == c->rank)
                dst[i] = v;
        }
}

void dr_state_save(const void *state, ug_ckpt_writer *w)
{
    const dr_state *p = state;
    char buf[DR_N_NETS * 21 + 1], key[64];
    ug_cw_meta_rng(w, "drit_rng", &p->rng);
    size_t len = 0;
    for (int i = 0; i < DR_N_NETS; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%ld", i ? " " : "",
                                p->adam_count[i]);
    ug_cw_meta(w, "drit_adam", "%s", buf);
    for (int i = 0; i < DR_N_LOSSES; i++) {
        snprintf(key, sizeof key, "drit_last.%s", ug_family_drit.loss_names[i]);
        ug_cw_meta(w, key, "%.9g", (double)p->last[i]);
    }
}

/* n numbers from metadata key: longs (non-negative) into l, or floats into fl. */
static int read_list(const ug_st_file *f, const char *path, const char *key, int n, long *l,
                     float *fl, ug_error *err)
{
    const char *s = ug_st_meta(f, key);
    if (!s)
        return ug_fail(err, "%s: metadata '%s' (DRIT's training state) is missing", path, key);
    for (int i = 0; i < n; i++) {
        char *end;
        if (l)
            l[i] = strtol(s, &end, 10);
        else
            fl[i] = strtof(s, &end);
        if (end == s || (l && l[i] < 0))
            return ug_fail(err, "%s: metadata '%s' is malformed", path, key);
        s = end;
    }
    return *s == '\0' ? 0 : ug_fail(err, "%s: metadata '%s' has too many values", path, key);
}

int dr_state_load(void *state, const ug_st_file *f, const char *path, ug_error *err)
{
    dr_state *p = state;
    ug_rng rng;
    if (ug_ckpt_meta_rng(f, path, "drit_rng", "the trainer's random state", &rng, err) < 0)
        return -1;
    if (read_list(f, path, "drit_adam", DR_N_NETS, p->adam_count, NULL, err) < 0)
        return -1;
    for (int i = 0; i < DR_N_LOSSES; i++) {
        char key[64];
        snprintf(key, sizeof key, "drit_last.%s", ug_family_drit.loss_names[i]);
        if (read_list(f, path, key, 1, NULL, &p->last[i], err) < 0)
            return -1;
    }
    p->rng = rng;
    return 0;
}
