/* Golden tests: our networks and training step against the fixtures written
 * by tools/make_fixtures.py (our PyTorch reference). Prints the largest error
 * seen per kind of check. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "model/checkpoint.h"
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
    int rc = ug_tape_forward(&t, m->k, &m->arena, n, input, N, 0, &err);
    CHECK(rc == 0, "forward %s: %s", ug_net_group[net], err.msg);
    if (rc)
        return;
    const int nodes[3] = {n->out_main, n->out_cam, n->out_heatmap};
    const char *names[3] = {main_name, "cam_logit", "heatmap"};
    for (int i = 0; i < 3; i++) {
        const ug_st_tensor *ref = fx(f, "fwd.%s.%s", ug_net_group[net], names[i]);
        if (!ref)
            continue;
        size_t numel = ug_tape_numel(&t, nodes[i]);
        CHECK(ref->numel == numel, "%s.%s size", ug_net_group[net], names[i]);
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
        CHECK(d <= 1e-4, "forward %s.%s differs by %g", ug_net_group[net], names[i], d);
    }
}

static void check_losses(const ug_st_file *f, const float *L, const char *step)
{
    for (int i = 0; i < UG_N_LOSSES; i++) {
        const ug_st_tensor *ref = fx(f, "%s.loss.%s", step, ug_loss_name((ug_loss_term)i));
        if (!ref)
            continue;
        double d = fabs(L[i] - ref->data[0]) / fmax(1.0, fabs(ref->data[0]));
        worst_loss = fmax(worst_loss, d);
        CHECK(d <= 1e-4, "%s %s: %.8g vs %.8g", step, ug_loss_name((ug_loss_term)i), L[i],
              ref->data[0]);
    }
}

static void check_grads(const ug_model *m, const ug_st_file *f)
{
    for (int i = 0; i < UG_N_NETS; i++) {
        const ug_net *n = &m->net[i];
        for (int p = 0; p < n->n_params; p++) {
            if (n->params[p].kind != UG_TRAINABLE)
                continue;
            const ug_st_tensor *ref = fx(f, "step1.grad.%s.%s", ug_net_group[i], n->params[p].name);
            if (!ref || ref->numel != n->params[p].numel)
                continue;
            double r = check_rel_l2(ug_param_grad(n, p), ref->data, ref->numel);
            worst_grad = fmax(worst_grad, r);
            CHECK(r <= 1e-4, "gradient %s.%s: relative L2 error %g", ug_net_group[i],
                  n->params[p].name, r);
        }
    }
}

static void check_after_two_steps(const ug_model *m, const ug_st_file *f)
{
    for (int i = 0; i < UG_N_NETS; i++) {
        const ug_net *n = &m->net[i];
        for (int p = 0; p < n->n_params; p++) {
            const char *name = n->params[p].name;
            const ug_st_tensor *ref = fx(f, "step2.state.%s.%s", ug_net_group[i], name);
            const ug_st_tensor *init = fx(f, "init.%s.%s", ug_net_group[i], name);
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
            CHECK(r <= 0.01, "after two steps %s.%s: error %g of the change", ug_net_group[i],
                  name, r);
        }
    }
}

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
    const char *light = ug_st_meta(f, "light");
    ug_config c = {meta_int(f, "ch"), meta_int(f, "n_res"), meta_int(f, "img_size"),
                   light && strcmp(light, "true") == 0, meta_int(f, "n_layers_global"),
                   meta_int(f, "n_layers_local")};
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
    float *base[UG_N_NETS];
    for (int i = 0; i < UG_N_NETS; i++)
        base[i] = m->net[i].data;
    rc = ug_ckpt_read_model(f, path, m, "init.", base, 0, &err);
    CHECK(rc == 0, "%s", err.msg);
    const ug_st_tensor *ra = fx(f, "%s%s", "input.", "real_A");
    const ug_st_tensor *rb = fx(f, "%s%s", "input.", "real_B");
    if (rc || !ra || !rb)
        goto done;

    check_forward(m, f, UG_GEN_A2B, ra->data, N, "image", 0);
    check_forward(m, f, UG_GEN_B2A, rb->data, N, "image", 0);
    check_forward(m, f, UG_DIS_GA, ra->data, N, "logit", 1);
    check_forward(m, f, UG_DIS_LA, ra->data, N, "logit", 1);
    check_forward(m, f, UG_DIS_GB, rb->data, N, "logit", 1);
    check_forward(m, f, UG_DIS_LB, rb->data, N, "logit", 1);

    ug_train_config tc;
    ug_train_config_default(&tc);
    tc.batch_size = N;
    ug_trainer *t;
    rc = ug_trainer_new(&t, m, &tc, &err);
    CHECK(rc == 0, "%s", err.msg);
    if (rc)
        goto done;
    float L[UG_N_LOSSES];
    rc = ug_trainer_step(t, ra->data, rb->data, N, L, &err);
    CHECK(rc == 0, "step 1: %s", err.msg);
    if (rc == 0) {
        check_losses(f, L, "step1");
        check_grads(m, f);
        rc = ug_trainer_step(t, ra->data, rb->data, N, L, &err);
        CHECK(rc == 0, "step 2: %s", err.msg);
        if (rc == 0) {
            check_losses(f, L, "step2");
            check_after_two_steps(m, f);
        }
    }
    ug_trainer_free(t);
done:
    ug_model_free(m);
    ug_st_close(f);
}

int main(void)
{
    run_fixture("light96.safetensors", 0);
    run_fixture("full32.safetensors", 0);
    run_fixture("full32.safetensors", 1);
    printf("largest errors: generator forward %.3g (abs), discriminator forward %.3g (of max), "
           "loss %.3g (rel), gradient %.3g (rel L2), after two steps %.3g (of the change)\n",
           worst_fwd, worst_dis_fwd, worst_loss, worst_grad, worst_step2);
    return check_summary();
}
