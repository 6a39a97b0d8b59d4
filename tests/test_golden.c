/* Golden tests: our networks and training step against the fixtures written
 * by tools/make_fixtures.py, tools/make_cyclegan_fixtures.py and
 * tools/make_unit_fixtures.py and tools/make_munit_fixtures.py (our PyTorch references). Prints the largest error seen per kind of check. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "data/dataset.h"
#include "model/checkpoint.h"
#include "model/cyclegan/cyclegan.h"
#include "model/model.h"
#include "model/munit/munit.h"
#include "model/ugatit/ugatit.h"
#include "model/unit/unit.h"
#include "nn/tape.h"

static double worst_fwd, worst_dis_fwd, worst_loss, worst_grad, worst_step2;

static const ug_st_tensor *fx(const ug_st_file *f, const char *fmt, const char *a, const char *b)
{
    char name[256];
    snprintf(name, sizeof name, fmt, a, b);
    const ug_st_tensor *t = ug_st_find(f, name);
    CHECK(t != NULL, "fixture tensor %s missing", name);
    return t;
}

static int meta_int(const ug_st_file *f, const char *key)
{
    const char *s = ug_st_meta(f, key);
    CHECK(s != NULL, "fixture metadata %s missing", key);
    return s ? atoi(s) : 0;
}

/* Eval-mode forward of one network on input, compared with fwd.NET.* */
static void check_forward(ug_model *m, const ug_st_file *f, int net, const float *input, int N,
                          const char *main_name, int is_dis)
{
    ug_tape t;
    ug_error err;
    ug_net *n = &m->net[net];
    ug_arena_reset(&m->arena);
    int rc = ug_tape_forward(&t, m->k, &m->arena, n, &input, N, UG_EVAL, &err);
    CHECK(rc == 0, "forward %s: %s", m->fam->net_names[net], err.msg);
    if (rc)
        return;
    const int nodes[3] = {ug_net_output(n, UG_OUT_IMAGE), ug_net_output(n, UG_OUT_CAM),
                          ug_net_output(n, UG_OUT_HEATMAP)};
    const char *names[3] = {main_name, "cam_logit", "heatmap"};
    for (int i = 0; i < 3; i++) {
        /* A network without CAM (an ablation) has neither, nor has its fixture. */
        if (nodes[i] < 0) {
            char key[128];
            snprintf(key, sizeof key, "fwd.%s.%s", m->fam->net_names[net], names[i]);
            CHECK(!ug_st_find(f, key), "the fixture has %s, the network not", key);
            continue;
        }
        const ug_st_tensor *ref = fx(f, "fwd.%s.%s", m->fam->net_names[net], names[i]);
        if (!ref)
            continue;
        size_t numel = ug_tape_numel(&t, nodes[i]);
        CHECK(ref->numel == numel, "%s.%s size", m->fam->net_names[net], names[i]);
        if (ref->numel != numel)
            continue;
        double d = check_max_abs_diff(t.out[nodes[i]], ref->data, numel);
        if (is_dis) {
            /* Fresh u, v make sigma a random projection, so the scale of a
             * discriminator's eval output is arbitrary: compare relative to it. */
            double scale = 0;
            for (size_t j = 0; j < numel; j++)
                scale = fmax(scale, fabs(ref->data[j]));
            d /= fmax(scale, 1.0);
            worst_dis_fwd = fmax(worst_dis_fwd, d);
        } else {
            worst_fwd = fmax(worst_fwd, d);
        }
        CHECK(d <= 1e-4, "forward %s.%s differs by %g", m->fam->net_names[net], names[i], d);
    }
}

static void check_losses(const ug_model *m, const ug_st_file *f, const float *L,
                         const char *step)
{
    for (int i = 0; i < m->fam->n_losses; i++) {
        const ug_st_tensor *ref = fx(f, "%s.loss.%s", step, m->fam->loss_names[i]);
        if (!ref)
            continue;
        double d = fabs(L[i] - ref->data[0]) / fmax(1.0, fabs(ref->data[0]));
        worst_loss = fmax(worst_loss, d);
        CHECK(d <= 1e-4, "%s %s: %.8g vs %.8g", step, m->fam->loss_names[i], L[i],
              ref->data[0]);
    }
}

/* Each gradient's error relative to its norm, or, for a fixture with the
 * metadata grad_floor, to that times the network's largest gradient norm
 * where that is more: a gradient that is zero in exact arithmetic is
 * rounding noise (tools/make_fixtures.py says where). A cancelled bias's
 * error is relative to the network's largest gradient norm. */
static void check_grads(const ug_model *m, const ug_st_file *f)
{
    const char *grad_floor = ug_st_meta(f, "grad_floor");
    const double floor_share = grad_floor ? atof(grad_floor) : 0;
    for (int i = 0; i < m->fam->n_nets; i++) {
        const ug_net *n = &m->net[i];
        double floor = 0, largest = 0;
        for (int p = 0; p < n->n_params; p++) {
            char key[256];
            snprintf(key, sizeof key, "step1.grad.%s.%s", m->fam->net_names[i], n->params[p].name);
            const ug_st_tensor *ref = ug_st_find(f, key);
            if (ref)
                largest = fmax(largest, check_norm2(ref->data, ref->numel));
        }
        floor = floor_share * largest;
        for (int p = 0; p < n->n_params; p++) {
            if (n->params[p].kind != UG_TRAINABLE)
                continue;
            const ug_st_tensor *ref = fx(f, "step1.grad.%s.%s", m->fam->net_names[i], n->params[p].name);
            if (!ref || ref->numel != n->params[p].numel)
                continue;
            float *ours = malloc(ref->numel * sizeof *ours);
            ug_error err;
            CHECK(ours && ug_net_read_grad(n, p, ours, &err) == 0, "reading gradient %s.%s",
                  m->fam->net_names[i], n->params[p].name);
            if (!ours)
                continue;
            double d = 0;
            for (size_t j = 0; j < ref->numel; j++)
                d += ((double)ours[j] - ref->data[j]) * ((double)ours[j] - ref->data[j]);
            free(ours);
            double own = fixture_cancelled(f, m->fam->net_names[i], n->params[p].name)
                             ? largest
                             : fmax(check_norm2(ref->data, ref->numel), floor);
            double r = sqrt(d) / fmax(own, 1e-30);
            worst_grad = fmax(worst_grad, r);
            CHECK(r <= 1e-4, "gradient %s.%s: relative L2 error %g", m->fam->net_names[i],
                  n->params[p].name, r);
        }
    }
}

static void check_after_two_steps(const ug_model *m, const ug_st_file *f)
{
    for (int i = 0; i < m->fam->n_nets; i++) {
        const ug_net *n = &m->net[i];
        for (int p = 0; p < n->n_params; p++) {
            const char *name = n->params[p].name;
            if (fixture_cancelled(f, m->fam->net_names[i], name))
                continue;
            const ug_st_tensor *ref = fx(f, "step2.state.%s.%s", m->fam->net_names[i], name);
            const ug_st_tensor *init = fx(f, "init.%s.%s", m->fam->net_names[i], name);
            if (!ref || !init)
                continue;
            const float *ours = ug_param_data(n, p);
            double num = 0, den = 0;
            for (size_t j = 0; j < ref->numel; j++) {
                double d = (double)ours[j] - ref->data[j], c = (double)ref->data[j] - init->data[j];
                num += d * d;
                den += c * c;
            }
            double r = den > 0 ? sqrt(num / den) : (num > 0 ? INFINITY : 0);
            worst_step2 = fmax(worst_step2, r);
            CHECK(r <= 0.01, "after two steps %s.%s: error %g of the change", m->fam->net_names[i],
                  name, r);
        }
    }
}

/* Eval-mode forward of a network with several outputs (UNIT's
 * discriminators, one per scale): each output port against fwd.NET.PORT,
 * relative to the reference's largest value as check_forward does for
 * discriminators. */
static void check_ports(ug_model *m, const ug_st_file *f, int net, const float *input, int N)
{
    ug_tape t;
    ug_error err;
    ug_net *n = &m->net[net];
    ug_arena_reset(&m->arena);
    int rc = ug_tape_forward(&t, m->k, &m->arena, n, &input, N, UG_EVAL, &err);
    CHECK(rc == 0, "forward %s: %s", m->fam->net_names[net], err.msg);
    for (int i = 0; i < n->n_out && rc == 0; i++) {
        const ug_st_tensor *ref = fx(f, "fwd.%s.%s", m->fam->net_names[net], n->out[i].name);
        size_t numel = ug_tape_numel(&t, n->out[i].node);
        CHECK(!ref || ref->numel == numel, "%s.%s size", m->fam->net_names[net],
              n->out[i].name);
        if (!ref || ref->numel != numel)
            continue;
        double d = check_max_abs_diff(t.out[n->out[i].node], ref->data, numel), scale = 0;
        for (size_t j = 0; j < numel; j++)
            scale = fmax(scale, fabs(ref->data[j]));
        d /= fmax(scale, 1.0);
        worst_dis_fwd = fmax(worst_dis_fwd, d);
        CHECK(d <= 1e-4, "forward %s.%s differs by %g", m->fam->net_names[net], n->out[i].name,
              d);
    }
}

/* Which network reads which domain's real images (0: A, 1: B) in a
 * fixture's forward checks, and the output's name there. */
static const struct {
    const char *family;
    int net, domain;
    const char *output;
} forwards[] = {
    {"ugatit", UG_GEN_A2B, 0, "image"}, {"ugatit", UG_GEN_B2A, 1, "image"},
    {"ugatit", UG_DIS_GA, 0, "logit"},  {"ugatit", UG_DIS_LA, 0, "logit"},
    {"ugatit", UG_DIS_GB, 1, "logit"},  {"ugatit", UG_DIS_LB, 1, "logit"},
    {"cyclegan", CG_G_A, 0, "image"},   {"cyclegan", CG_G_B, 1, "image"},
    {"cyclegan", CG_D_A, 1, "logit"},   {"cyclegan", CG_D_B, 0, "logit"},
    {"unit", UN_ENC_A, 0, "image"},     {"unit", UN_ENC_B, 1, "image"},
    {"unit", UN_DIS_A, 0, NULL},        {"unit", UN_DIS_B, 1, NULL}, /* NULL: every output */
    {"munit", MU_STYLE_A, 0, "image"},  {"munit", MU_CONTENT_A, 0, "image"},
    {"munit", MU_STYLE_B, 1, "image"},  {"munit", MU_CONTENT_B, 1, "image"},
    {"munit", MU_DIS_A, 0, NULL},       {"munit", MU_DIS_B, 1, NULL},
};

static void run_fixture(const char *file, int reference)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", UGATIT_FIXTURES, file);
    ug_st_file *f;
    ug_error err;
    int rc = ug_st_open(&f, path, &err);
    CHECK(rc == 0, "%s", err.msg);
    if (rc)
        return;
    ug_config c;
    unsigned nets;
    /* The CycleGAN fixture's metadata is its family's checkpoint metadata. */
    if (ug_st_meta(f, "family")) {
        rc = ug_ckpt_config(f, path, NULL, &c, &nets, &err);
        CHECK(rc == 0, "%s: %s", file, err.msg);
        if (rc) {
            ug_st_close(f);
            return;
        }
    } else {
        const char *light = ug_st_meta(f, "light"), *norm = ug_st_meta(f, "norm");
        const char *cam_g = ug_st_meta(f, "cam_g"), *cam_d = ug_st_meta(f, "cam_d");
        c = (ug_config){meta_int(f, "ch"), meta_int(f, "n_res"), meta_int(f, "img_size"),
                        light && strcmp(light, "true") == 0, meta_int(f, "n_layers_global"),
                        meta_int(f, "n_layers_local"), norm ? (ug_norm)ug_norm_parse(norm) : 0,
                        cam_g && strcmp(cam_g, "false") == 0,
                        cam_d && strcmp(cam_d, "false") == 0, "ugatit", 0, 0};
    }
    int N = meta_int(f, "batch");
    ug_model *m;
    rc = ug_model_build(&m, &c, UG_ALL_NETS, &err);
    CHECK(rc == 0, "%s: build: %s", file, err.msg);
    if (rc) {
        ug_st_close(f);
        return;
    }
    if (reference) {
        /* The same checks with every kernel on its plain C reference version. */
        ug_kctx_free(m->k);
        m->k = ug_kctx_new(1, &err);
    }
    float *base[UG_MAX_NETS] = {0};
    for (int i = 0; i < m->fam->n_nets; i++)
        base[i] = m->net[i].data;
    rc = ug_ckpt_read_model(f, path, m, "init.", base, 0, &err);
    CHECK(rc == 0, "%s", err.msg);
    const ug_st_tensor *ra = fx(f, "%s%s", "input.", "real_A");
    const ug_st_tensor *rb = fx(f, "%s%s", "input.", "real_B");
    if (rc || !ra || !rb)
        goto done;

    /* Each network on the real images of the domain it reads (fwd.NET.*). */
    for (size_t i = 0; i < sizeof forwards / sizeof forwards[0]; i++)
        if (strcmp(forwards[i].family, m->fam->name) == 0 && forwards[i].output)
            check_forward(m, f, forwards[i].net, forwards[i].domain ? rb->data : ra->data, N,
                          forwards[i].output, forwards[i].output[0] == 'l');
        else if (strcmp(forwards[i].family, m->fam->name) == 0)
            check_ports(m, f, forwards[i].net, forwards[i].domain ? rb->data : ra->data, N);

    ug_train_config tc;
    CHECK(ug_train_config_for(&tc, m->fam->name, &err) == 0, "%s", err.msg);
    tc.batch_size = N;
    /* MUNIT's fixture turns the cycle terms on (its official default is 0). */
    if (ug_st_meta(f, "recon_x_cyc_w"))
        tc.cycle_weight = (float)atof(ug_st_meta(f, "recon_x_cyc_w"));
    ug_trainer *t;
    rc = ug_trainer_new(&t, m, &tc, &err);
    CHECK(rc == 0, "%s", err.msg);
    if (rc)
        goto done;
    float L[UG_MAX_LOSSES];
    rc = ug_trainer_step(t, ra->data, rb->data, N, L, &err);
    CHECK(rc == 0, "step 1: %s", err.msg);
    if (rc == 0) {
        check_losses(m, f, L, "step1");
        check_grads(m, f);
        /* MUNIT's second step is ill-conditioned in the first step's rounding
         * (tools/make_munit_fixtures.py): its fixture gives the weights after
         * step 1, from which the second update is checked. */
        char key[256];
        snprintf(key, sizeof key, "step1.state.%s.%s", m->fam->net_names[0],
                 m->net[0].params[0].name);
        if (ug_st_find(f, key)) {
            float *now[UG_MAX_NETS] = {0};
            for (int i = 0; i < m->fam->n_nets; i++)
                now[i] = m->net[i].data;
            rc = ug_ckpt_read_model(f, path, m, "step1.state.", now, 0, &err);
            CHECK(rc == 0, "%s", err.msg);
        }
        rc = rc ? rc : ug_trainer_step(t, ra->data, rb->data, N, L, &err);
        CHECK(rc == 0, "step 2: %s", err.msg);
        if (rc == 0) {
            check_losses(m, f, L, "step2");
            check_after_two_steps(m, f);
        }
    }
    ug_trainer_free(t);
done:
    ug_model_free(m);
    ug_st_close(f);
}

/* Runs one fixture and prints the largest errors it reached. */
static void run(const char *file, int reference)
{
    worst_fwd = worst_dis_fwd = worst_loss = worst_grad = worst_step2 = 0;
    run_fixture(file, reference);
    printf("%s%s: largest errors: generator forward %.3g (abs), discriminator forward %.3g "
           "(of max), loss %.3g (rel), gradient %.3g (rel L2), after two steps %.3g (of the "
           "change)\n",
           file, reference ? " (reference kernels)" : "", worst_fwd, worst_dis_fwd, worst_loss,
           worst_grad, worst_step2);
}

/* The official code's generator files (tests/fixtures/cyclegan, written by
 * tools/make_cyclegan_fixtures.py), one at a time and as a folder, on the
 * sample images through the official test transform (Pillow's bicubic). */
static void check_official_files(void)
{
    const char *dir = UGATIT_FIXTURES "/cyclegan";
    const char *files[2] = {UGATIT_FIXTURES "/cyclegan/latest_net_G_A.pth",
                            UGATIT_FIXTURES "/cyclegan/latest_net_G_B.pth"};
    const char *samples[2] = {UGATIT_SHARED "/data/selfie2anime-sample/testA/female_2321.jpg",
                              UGATIT_SHARED "/data/selfie2anime-sample/testB/3414.png"};
    ug_st_file *f;
    ug_error err;
    int rc = ug_st_open(&f, UGATIT_FIXTURES "/cyclegan32.safetensors", &err);
    CHECK(rc == 0, "%s", err.msg);
    if (rc)
        return;
    ug_config hint;
    ug_config_default(&hint);
    hint.img_size = meta_int(f, "translate_size");
    const size_t numel = (size_t)3 * hint.img_size * hint.img_size;
    float *x = malloc(numel * sizeof *x), *y = malloc(numel * sizeof *y);
    for (int d = 0; d < 2 && x && y; d++) {
        const ug_st_tensor *in = fx(f, "translate.%s.%s", d ? "B" : "A", "input");
        const ug_st_tensor *want = fx(f, "translate.%s.%s", d ? "G_B" : "G_A", "image");
        if (!in || !want || in->numel != numel || want->numel != numel)
            continue;
        rc = ug_load_test_image(x, samples[d], hint.img_size, &cg_pipeline, &err);
        CHECK(rc == 0 && memcmp(x, in->data, numel * sizeof *x) == 0,
              "%s: the bicubic test transform differs from Pillow's (%s)", samples[d],
              rc ? err.msg : "values");
        /* The lone file (its direction told by its name), then the folder. */
        for (int k = 0; k < 2; k++) {
            ug_model *m;
            rc = ug_model_load(&m, k ? dir : files[d], &hint, 0, &err);
            CHECK(rc == 0, "%s", err.msg);
            if (rc)
                continue;
            CHECK(strcmp(ug_model_family(m), "cyclegan") == 0 &&
                      ug_model_translates(m, d ? UG_B2A : UG_A2B) &&
                      ug_model_translates(m, d ? UG_A2B : UG_B2A) == k,
                  "%s: family %s, networks %#x", k ? dir : files[d], ug_model_family(m), m->nets);
            rc = ug_model_translate(m, d ? UG_B2A : UG_A2B, in->data, 1, y, NULL, NULL, &err);
            CHECK(rc == 0, "%s", err.msg);
            double diff = rc ? INFINITY : check_max_abs_diff(y, want->data, numel);
            worst_fwd = fmax(worst_fwd, diff);
            CHECK(diff <= 1e-4, "%s: translation differs by %g", k ? dir : files[d], diff);
            ug_model_free(m);
        }
    }
    free(x);
    free(y);
    ug_st_close(f);
}

/* UNIT's translation (a.enc -> b.dec, b.enc -> a.dec, no noise) with the
 * fixture's initial weights, and the same generators read from the
 * official-layout gen_00000001.pt (legacy torch.save format, InstanceNorm
 * running statistics included) that tools/make_unit_fixtures.py wrote, as a
 * file and as the official checkpoint folder. */
static void check_unit_translations(void)
{
    const char *path = UGATIT_FIXTURES "/unit32.safetensors";
    const char *gen[3] = {path, UGATIT_FIXTURES "/unit/gen_00000001.pt",
                          UGATIT_FIXTURES "/unit"};
    ug_st_file *f;
    ug_error err;
    int rc = ug_st_open(&f, path, &err);
    CHECK(rc == 0, "%s", err.msg);
    if (rc)
        return;
    ug_model *m[3] = {NULL, NULL, NULL};
    ug_config c;
    unsigned nets;
    rc = ug_ckpt_config(f, path, NULL, &c, &nets, &err);
    CHECK(rc == 0 && ug_model_build(&m[0], &c, UN_GENERATORS, &err) == 0, "%s", err.msg);
    if (m[0]) {
        float *base[UG_MAX_NETS] = {0};
        for (int i = 0; i < UN_N_NETS; i++)
            base[i] = ug_model_has(m[0], i) ? m[0]->net[i].data : NULL;
        rc = ug_ckpt_read_model(f, path, m[0], "init.", base, 0, &err);
        CHECK(rc == 0, "%s", err.msg);
    }
    for (int k = 1; k < 3; k++) {
        rc = ug_model_load(&m[k], gen[k], &c, 0, &err);
        CHECK(rc == 0, "%s", err.msg);
        CHECK(!m[k] ||
                  (strcmp(ug_model_family(m[k]), "unit") == 0 && m[k]->nets == UN_GENERATORS),
              "%s: family %s, networks %#x", gen[k], m[k] ? ug_model_family(m[k]) : "-",
              m[k] ? m[k]->nets : 0);
    }
    const size_t numel = (size_t)3 * c.img_size * c.img_size;
    float *y = malloc(numel * sizeof *y);
    for (int d = 0; d < 2 && y; d++) {
        const ug_st_tensor *in = fx(f, "translate.%s.%s", d ? "B" : "A", "input");
        const ug_st_tensor *want = fx(f, "translate.%s.%s", d ? "B2A" : "A2B", "image");
        if (!in || !want || in->numel != numel || want->numel != numel)
            continue;
        for (int k = 0; k < 3; k++) {
            if (!m[k])
                continue;
            rc = ug_model_translate(m[k], d ? UG_B2A : UG_A2B, in->data, 1, y, NULL, NULL, &err);
            CHECK(rc == 0, "%s", err.msg);
            double diff = rc ? INFINITY : check_max_abs_diff(y, want->data, numel);
            worst_fwd = fmax(worst_fwd, diff);
            CHECK(diff <= 1e-4, "%s: %s translation differs by %g", gen[k],
                  d ? "B2A" : "A2B", diff);
        }
    }
    free(y);
    for (int k = 0; k < 3; k++)
        ug_model_free(m[k]);
    ug_st_close(f);
}

/* MUNIT's translations with the fixture's style codes and with the style
 * of an example image of the target domain, on the fixture's initial
 * weights and on the same generators read from the official-layout
 * gen_00000001.pt (legacy format, AdaIN buffers and the content encoders'
 * InstanceNorm running statistics included), as a file and as a folder. */
static void check_munit_translations(void)
{
    const char *path = UGATIT_FIXTURES "/munit32.safetensors";
    const char *gen[3] = {path, UGATIT_FIXTURES "/munit/gen_00000001.pt",
                          UGATIT_FIXTURES "/munit"};
    ug_st_file *f;
    ug_error err;
    int rc = ug_st_open(&f, path, &err);
    CHECK(rc == 0, "%s", err.msg);
    if (rc)
        return;
    ug_model *m[3] = {NULL, NULL, NULL};
    ug_config c;
    unsigned nets;
    rc = ug_ckpt_config(f, path, NULL, &c, &nets, &err);
    CHECK(rc == 0 && ug_model_build(&m[0], &c, MU_GENERATORS, &err) == 0, "%s", err.msg);
    if (m[0]) {
        float *base[UG_MAX_NETS] = {0};
        for (int i = 0; i < MU_N_NETS; i++)
            base[i] = ug_model_has(m[0], i) ? m[0]->net[i].data : NULL;
        rc = ug_ckpt_read_model(f, path, m[0], "init.", base, 0, &err);
        CHECK(rc == 0, "%s", err.msg);
    }
    for (int k = 1; k < 3; k++) {
        rc = ug_model_load(&m[k], gen[k], &c, 0, &err);
        CHECK(rc == 0, "%s", err.msg);
        CHECK(!m[k] ||
                  (strcmp(ug_model_family(m[k]), "munit") == 0 && m[k]->nets == MU_GENERATORS),
              "%s: family %s, networks %#x", gen[k], m[k] ? ug_model_family(m[k]) : "-",
              m[k] ? m[k]->nets : 0);
    }
    const size_t numel = (size_t)3 * c.img_size * c.img_size;
    float *y = malloc(numel * sizeof *y), style[64];
    for (int d = 0; d < 2 && y; d++) {
        const char *t = d ? "B2A" : "A2B";
        const ug_st_tensor *in = fx(f, "translate.%s.%s", d ? "B" : "A", "input");
        const ug_st_tensor *st = fx(f, "translate.%s.%s", d ? "B" : "A", "style");
        const ug_st_tensor *want = fx(f, "translate.%s.%s", t, "image");
        const ug_st_tensor *ex = fx(f, "translate.%s.%s", t, "example");
        const ug_st_tensor *ex_style = fx(f, "translate.%s.%s", t, "example_style");
        const ug_st_tensor *want_ex = fx(f, "translate.%s.%s", t, "from_example");
        if (!in || !st || !want || !ex || !ex_style || !want_ex || in->numel != numel ||
            st->numel != (size_t)c.style_dim || ex_style->numel > 64)
            continue;
        for (int k = 0; k < 3; k++) {
            if (!m[k])
                continue;
            const ug_family *fam = m[k]->fam;
            const ug_direction dir = d ? UG_B2A : UG_A2B;
            rc = fam->translate_style(m[k], dir, in->data, 1, st->data, y, &err);
            CHECK(rc == 0, "%s", err.msg);
            double diff = rc ? INFINITY : check_max_abs_diff(y, want->data, numel);
            worst_fwd = fmax(worst_fwd, diff);
            CHECK(diff <= 1e-4, "%s: %s translation differs by %g", gen[k], t, diff);
            rc = fam->encode_style(m[k], dir, ex->data, 1, style, &err);
            CHECK(rc == 0, "%s", err.msg);
            diff = rc ? INFINITY : check_max_abs_diff(style, ex_style->data, ex_style->numel);
            worst_fwd = fmax(worst_fwd, diff);
            CHECK(diff <= 1e-4, "%s: %s example's style differs by %g", gen[k], t, diff);
            rc = rc ? rc : fam->translate_style(m[k], dir, in->data, 1, style, y, &err);
            diff = rc ? INFINITY : check_max_abs_diff(y, want_ex->data, numel);
            worst_fwd = fmax(worst_fwd, diff);
            CHECK(diff <= 1e-4, "%s: %s translation in the example's style differs by %g",
                  gen[k], t, diff);
        }
    }
    free(y);
    for (int k = 0; k < 3; k++)
        ug_model_free(m[k]);
    ug_st_close(f);
}

int main(void)
{
    run("light96.safetensors", 0);
    run("full32.safetensors", 0);
    run("full32.safetensors", 1);
    /* Two of the paper's ablations (tools/make_fixtures.py says which). */
    run("adain_nocamg.safetensors", 0);
    run("gn_nocamd.safetensors", 0);
    run("cyclegan32.safetensors", 0);
    run("cyclegan32.safetensors", 1);
    worst_fwd = 0;
    check_official_files();
    printf("official CycleGAN .pth files: largest translation error %.3g (abs)\n", worst_fwd);
    run("unit32.safetensors", 0);
    run("unit32.safetensors", 1);
    worst_fwd = 0;
    check_unit_translations();
    printf("UNIT translations and the official-layout gen_*.pt: largest error %.3g (abs)\n",
           worst_fwd);
    run("munit32.safetensors", 0);
    run("munit32.safetensors", 1);
    worst_fwd = 0;
    check_munit_translations();
    printf("MUNIT translations (drawn and example styles) and the official-layout gen_*.pt: "
           "largest error %.3g (abs)\n", worst_fwd);
    return check_summary();
}
