/* Model creation and evaluation-mode runs, for any family. */
#include "model/model.h"

#include <stdlib.h>
#include <string.h>

#include "nn/tape.h"

static const char *const norm_names[UG_N_NORMS] = {"adalin", "in", "ln", "adain", "gn"};

const char *ug_norm_name(ug_norm n)
{
    return n >= 0 && n < UG_N_NORMS ? norm_names[n] : "?";
}

int ug_norm_parse(const char *name)
{
    for (int n = 0; n < UG_N_NORMS; n++)
        if (strcmp(name, norm_names[n]) == 0)
            return n;
    return -1;
}

void ug_config_default(ug_config *c)
{
    memset(c, 0, sizeof *c);
    c->ch = 64;
    c->n_res = 4;
    c->img_size = 256;
    c->light = 0;
    c->dis_global = 7;
    c->dis_local = 5;
}

const ug_config *ug_model_config(const ug_model *m) { return &m->cfg; }
const char *ug_model_family(const ug_model *m) { return m->fam->name; }

int ug_model_describe(const ug_model *m, char kv[][2][64], int max)
{
    ug_kv_lines l = {kv, 0, max};
    m->fam->describe(&m->cfg, &l);
    return l.n;
}

int ug_model_sample_rows(const ug_model *m, const ug_sample_row **rows)
{
    return m->fam->sample_rows(&m->cfg, rows);
}

void ug_model_free(ug_model *m)
{
    if (!m)
        return;
    for (int i = 0; i < UG_MAX_NETS; i++)
        ug_net_free(&m->net[i]);
    ug_kctx_free(m->k);
    ug_arena_free(&m->arena);
    free(m);
}

int ug_model_build(ug_model **out, const ug_config *c, unsigned nets, ug_error *err)
{
    *out = NULL;
    const ug_family *fam = ug_family_find(c->family, err);
    if (!fam)
        return -1;
    ug_model *m = calloc(1, sizeof *m);
    if (!m)
        return ug_fail(err, "out of memory");
    m->fam = fam;
    m->cfg = *c;
    m->cfg.family = fam->name;
    m->nets = nets & ((1u << fam->n_nets) - 1);
    /* The context first: the networks and the activations live in its backend. */
    m->k = ug_kctx_new(0, err);
    const ug_backend *be = m->k ? m->k->be : ug_backend_default();
    ug_arena_init(&m->arena, be);
    for (int i = 0; i < UG_MAX_NETS; i++) {
        ug_net_init(&m->net[i]);
        m->net[i].be = be;
    }
    int rc = m->k ? 0 : -1;
    for (int i = 0; i < fam->n_nets && rc == 0; i++)
        if (ug_model_has(m, i))
            rc = fam->build(&m->net[i], i, c, err);
    if (rc < 0) {
        ug_model_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

int ug_model_new(ug_model **out, const ug_config *c, uint64_t seed, ug_error *err)
{
    if (ug_model_build(out, c, UG_ALL_NETS, err) < 0)
        return -1;
    ug_rng rng;
    ug_rng_seed(&rng, seed, 1);
    for (int i = 0; i < (*out)->fam->n_nets; i++)
        ug_net_init_default(&(*out)->net[i], &rng);
    return 0;
}

int ug_model_set_precision(ug_model *m, ug_precision p, ug_error *err)
{
    if (p != UG_FP32 && p != UG_BF16)
        return ug_fail(err, "unknown precision %d", (int)p);
    if (p == UG_BF16 && ug_kctx_bf16_check(err) < 0)
        return -1;
    ug_kctx_set_bf16(m->k, p == UG_BF16);
    return 0;
}

int ug_model_translate(ug_model *m, ug_direction dir, const float *images, int N, float *out,
                       float *cam_logit, float *heatmap, ug_error *err)
{
    if (dir != UG_A2B && dir != UG_B2A)
        return ug_fail(err, "unknown direction %d", (int)dir);
    return m->fam->translate(m, dir, images, N, out, cam_logit, heatmap, err);
}

int ug_model_run(ug_model *m, int net, const float *images, int N, float *out, float *cam_logit,
                 float *heatmap, ug_error *err)
{
    const char *group = m->fam->net_names[net];
    if (!ug_model_has(m, net))
        return ug_fail(err, "the checkpoint holds no %s network", group);
    ug_net *g = &m->net[net];
    const char *names[3] = {UG_OUT_IMAGE, UG_OUT_CAM, UG_OUT_HEATMAP};
    float *dst[3] = {out, cam_logit, heatmap};
    for (int i = 1; i < 3; i++)
        if (dst[i] && ug_net_output(g, names[i]) < 0)
            return ug_fail(err, "%s has no CAM attention (trained with --cam_g false), so no %s",
                           group, names[i]);
    ug_tape t;
    ug_arena_reset(&m->arena);
    const float *x = images;
    if (!m->k->be->host_memory) {
        const ug_node *in = &g->nodes[g->in[0].node];
        const size_t in_bytes = (size_t)N * in->C * in->H * in->W * sizeof(float);
        float *up = ug_arena_alloc(&m->arena, in_bytes);
        if (!up)
            return ug_fail(err, "out of memory for the input images");
        m->k->be->from_host(up, images, in_bytes);
        x = up;
    }
    const float *const inputs[1] = {x};
    if (ug_tape_forward_nograd(&t, m->k, &m->arena, g, inputs, N, UG_EVAL, err) < 0)
        return -1;
    for (int i = 0; i < 3; i++) {
        int node = ug_net_output(g, names[i]);
        if (dst[i] && node >= 0)
            m->k->be->to_host(dst[i], ug_tape_out(&t, node),
                              ug_tape_numel(&t, node) * sizeof(float));
    }
    return 0;
}

#define STYLE_STREAM 0x7374796cu /* "styl": apart from the initialisation's and training's */

int ug_model_style_size(const ug_model *m)
{
    return m->fam->style_size ? m->fam->style_size(&m->cfg) : 0;
}

int ug_model_draw_styles(const ug_model *m, uint64_t seed, int n, float *out, ug_error *err)
{
    const size_t size = (size_t)ug_model_style_size(m);
    if (size == 0)
        return ug_fail(err, "a %s model has no style codes (only multimodal families, such as "
                            "MUNIT, do)", m->fam->title);
    ug_rng rng;
    ug_rng_seed(&rng, seed, STYLE_STREAM);
    for (size_t i = 0; i < (size_t)n * size; i++)
        out[i] = (float)ug_rng_normal(&rng);
    return 0;
}
