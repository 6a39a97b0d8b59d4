/* ugatit export --onnx. Three runs of this program (CMakeLists.txt):
 *
 *   test_onnx                      the exporter: the file read back with
 *                                  protobuf-c, the errors, the command line
 *   test_onnx checker PY DIR       models of every variant through Debian's
 *                                  python3-onnx checker (DIR/check_onnx.py)
 *   test_onnx ort DIR NODE_DIR     the same models through onnxruntime-node
 *                                  (DIR/compare.js) on the sample images, each
 *                                  output within 1e-4 of our forward pass
 *
 * The models are small (64 x 64) with their normalisation parameters (rho,
 * gamma, beta, GroupNorm's weight and bias) set to random values, not their
 * constant start values, so that every term of every norm shows. */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cli.h"
#include "data/dataset.h"
#include "export/onnx.h"
#include "files.h"
#include "model/model.h"
#include "model/ugatit/ugatit.h"
#include "nn/build.h"
#include "onnx.pb-c.h"

static char dir[] = "/tmp/ugatit_test_onnx_XXXXXX";
#define S 64

typedef struct variant {
    const char *name;
    int ch, light;
    ug_norm norm;
    int no_cam_g;
    ug_direction dir;
    const char *family; /* NULL: U-GAT-IT */
} variant;

/* Every decoder norm, light and full, with and without CAM, both directions.
 * gn at ch 16 has groups of two channels in the residual blocks (64 of them
 * in 32 groups). And CycleGAN's generator (transposed convolutions). */
static const variant variants[] = {
    {"adalin_full", 8, 0, UG_NORM_ADALIN, 0, UG_A2B, NULL},
    {"adalin_light", 8, 1, UG_NORM_ADALIN, 0, UG_B2A, NULL},
    {"adalin_nocam", 8, 0, UG_NORM_ADALIN, 1, UG_A2B, NULL},
    {"gn", 16, 0, UG_NORM_GN, 0, UG_B2A, NULL},
    {"in", 8, 1, UG_NORM_IN, 0, UG_A2B, NULL},
    {"ln", 8, 0, UG_NORM_LN, 1, UG_B2A, NULL},
    {"adain", 8, 1, UG_NORM_ADAIN, 0, UG_A2B, NULL},
    {"cyclegan", 8, 0, UG_NORM_ADALIN, 1, UG_B2A, "cyclegan"},
};
#define N_VARIANTS (int)(sizeof variants / sizeof variants[0])

static float uniform(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)(*s >> 8) / 16777216.0f;
}

/* The generators' constant-initialised parameters at random values: rho in
 * [0, 1], gamma and weights in [0.5, 1.5], beta and biases in [-0.5, 0.5]. */
static void randomise_norms(ug_model *m, uint32_t seed)
{
    for (int g = UG_GEN_A2B; g <= UG_GEN_B2A; g++) {
        ug_net *net = &m->net[g];
        for (int p = 0; p < net->n_params; p++) {
            const ug_param *pp = &net->params[p];
            if (pp->init != UG_INIT_CONST && pp->init != UG_INIT_NONE)
                continue;
            const char *last = strrchr(pp->name, '.');
            float lo = 0, hi = 1;
            if (strcmp(last, ".gamma") == 0 || strcmp(last, ".weight") == 0)
                lo = 0.5f, hi = 1.5f;
            else if (strcmp(last, ".beta") == 0 || strcmp(last, ".bias") == 0)
                lo = -0.5f, hi = 0.5f;
            float *d = ug_param_data(net, p);
            for (size_t i = 0; i < pp->numel; i++)
                d[i] = lo + (hi - lo) * uniform(&seed);
        }
    }
}

/* Variant v as a new model saved to DIR/NAME.safetensors. */
static ug_model *make_model(const variant *v, int k)
{
    /* CycleGAN's discriminators: its PatchGAN of 3 layers. */
    ug_config c = {v->ch, 2, S, v->light, v->family ? 3 : 5, 3, v->norm, v->no_cam_g, 0,
                   v->family};
    ug_model *m = NULL;
    ug_error err;
    char path[300];
    snprintf(path, sizeof path, "%s/%s.safetensors", dir, v->name);
    if (ug_model_new(&m, &c, 100 + (uint64_t)k, &err) < 0) {
        CHECK(0, "%s: %s", v->name, err.msg);
        return NULL;
    }
    randomise_norms(m, 7u + (uint32_t)k);
    if (ug_model_save(m, path, &err) < 0) {
        CHECK(0, "%s: %s", v->name, err.msg);
        ug_model_free(m);
        return NULL;
    }
    return m;
}

/* ugatit export of variant v's checkpoint to DIR/NAME.onnx. */
static int export_cli(const variant *v)
{
    char args[1024], msg[1024];
    snprintf(args, sizeof args, "export --onnx %s/%s.onnx --model %s/%s.safetensors --direction %s",
             dir, v->name, dir, v->name, v->dir == UG_B2A ? "B2A" : "A2B");
    int rc = run_cli(dir, args, 0, msg, sizeof msg);
    CHECK(rc == 0, "%s: export failed (%d): %s", v->name, rc, msg);
    return rc == 0 ? 0 : -1;
}

/* ---- the exporter, read back ---- */

static const Onnx__ValueInfoProto *value(Onnx__ValueInfoProto **vs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(vs[i]->name, name) == 0)
            return vs[i];
    return NULL;
}

/* A graph input or output is float N x C x H x W with N symbolic. */
static void check_value(const Onnx__ValueInfoProto *v, int C, int H, int W)
{
    CHECK(v && v->type && v->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE,
          "no tensor value");
    if (!v || !v->type || v->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
        return;
    const Onnx__TypeProto__Tensor *t = v->type->tensor_type;
    CHECK(t->elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, "%s: element type %d", v->name,
          t->elem_type);
    CHECK(t->shape && t->shape->n_dim == 4, "%s: not 4-D", v->name);
    if (!t->shape || t->shape->n_dim != 4)
        return;
    Onnx__TensorShapeProto__Dimension **d = t->shape->dim;
    CHECK(d[0]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
              strcmp(d[0]->dim_param, "N") == 0,
          "%s: batch dimension not the symbol N", v->name);
    const int want[3] = {C, H, W};
    for (int k = 1; k < 4; k++)
        CHECK(d[k]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
                  d[k]->dim_value == want[k - 1],
              "%s: dimension %d is not %d", v->name, k, want[k - 1]);
}

/* The initializer of a parameter holds its exact bytes. */
static void check_weight(const Onnx__GraphProto *g, const ug_net *net, const char *name)
{
    int p = ug_net_find(net, name);
    const Onnx__TensorProto *t = NULL;
    for (size_t i = 0; i < g->n_initializer; i++)
        t = strcmp(g->initializer[i]->name, name) == 0 ? g->initializer[i] : t;
    CHECK(p >= 0 && t, "no initializer %s", name);
    if (p < 0 || !t)
        return;
    const ug_param *pp = &net->params[p];
    CHECK(t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT && t->has_raw_data &&
              t->raw_data.len == pp->numel * 4 &&
              memcmp(t->raw_data.data, ug_param_data(net, p), pp->numel * 4) == 0,
          "%s: initializer differs from the parameter", name);
    CHECK((int)t->n_dims == pp->ndim, "%s: %zu dims", name, t->n_dims);
}

static Onnx__ModelProto *read_model(const char *path)
{
    size_t n;
    unsigned char *bytes = read_bytes(path, &n);
    Onnx__ModelProto *mp = bytes ? onnx__model_proto__unpack(NULL, n, bytes) : NULL;
    free(bytes);
    CHECK(mp != NULL, "%s: does not parse as an ONNX ModelProto", path);
    return mp;
}

static void test_read_back(void)
{
    const variant *v = &variants[0]; /* adalin, full, CAM, A2B */
    ug_model *m = make_model(v, 0);
    if (!m)
        return;
    char path[300];
    snprintf(path, sizeof path, "%s/api.onnx", dir);
    ug_error err;
    CHECK(ug_onnx_export(m, UG_A2B, path, &err) == 0, "export: %s", err.msg);
    Onnx__ModelProto *mp = read_model(path);
    if (mp) {
        CHECK(mp->ir_version == 8, "ir_version %lld", (long long)mp->ir_version);
        CHECK(mp->n_opset_import == 1 && mp->opset_import[0]->version == 17 &&
                  (!mp->opset_import[0]->domain || !*mp->opset_import[0]->domain),
              "not the standard opset 17");
        const Onnx__GraphProto *g = mp->graph;
        CHECK(strcmp(g->name, "genA2B") == 0, "graph '%s'", g->name);
        CHECK(g->n_input == 1 && g->n_output == 2, "%zu inputs, %zu outputs", g->n_input,
              g->n_output);
        check_value(value(g->input, g->n_input, "image"), 3, S, S);
        check_value(value(g->output, g->n_output, "translated"), 3, S, S);
        check_value(value(g->output, g->n_output, "heatmap"), 1, S / 4, S / 4);
        /* Standard ops only; the CAM logits (GlobalMaxPool) are not exported. */
        static const char *const allowed[] = {
            "Pad", "Conv", "InstanceNormalization", "Relu", "Add", "Mul", "Sub", "Div",
            "Sqrt", "ReduceMean", "ReduceSum", "GlobalAveragePool", "Concat", "Flatten",
            "Gemm", "Unsqueeze", "Resize", "Tanh", "Identity"};
        for (size_t i = 0; i < g->n_node; i++) {
            int ok = 0;
            for (size_t k = 0; k < sizeof allowed / sizeof allowed[0]; k++)
                ok |= strcmp(g->node[i]->op_type, allowed[k]) == 0;
            CHECK(ok && (!g->node[i]->domain || !*g->node[i]->domain), "node %zu: %s", i,
                  g->node[i]->op_type);
        }
        const ug_net *net = &m->net[UG_GEN_A2B];
        check_weight(g, net, "DownBlock.1.weight");
        check_weight(g, net, "FC.0.weight");
        check_weight(g, net, "UpBlock1_1.norm1.rho");
        check_weight(g, net, "UpBlock2.3.gamma");
        onnx__model_proto__free_unpacked(mp, NULL);
    }
    ug_model_free(m);

    /* Without CAM: the translation only. */
    m = make_model(&variants[2], 2);
    snprintf(path, sizeof path, "%s/nocam.onnx", dir);
    CHECK(m && ug_onnx_export(m, UG_A2B, path, &err) == 0, "export: %s", m ? err.msg : "");
    mp = m ? read_model(path) : NULL;
    if (mp) {
        const Onnx__GraphProto *g = mp->graph;
        CHECK(g->n_output == 1 && strcmp(g->output[0]->name, "translated") == 0,
              "outputs of a generator without CAM");
        onnx__model_proto__free_unpacked(mp, NULL);
    }
    ug_model_free(m);
}

/* What has no mapping is refused by name, and no file is left. */
static void test_refused(void)
{
    static const ug_onnx_output outs[] = {{UG_OUT_IMAGE, "translated"}};
    char path[300];
    snprintf(path, sizeof path, "%s/refused.onnx", dir);
    ug_error err = {{0}};

    ug_net net;
    ug_net_init(&net);
    ug_builder b = {&net, &err, 0};
    CHECK(ug_net_alloc(&net, &err) == 0, "%s", err.msg);
    ug_b_output(&b, UG_OUT_IMAGE, ug_b_unary(&b, OP_SIGMOID, ug_b_input(&b, "image", 3, 8, 8)));
    CHECK(!b.failed, "%s", err.msg);
    CHECK(ug_onnx_write_net(&net, "net", outs, 1, path, &err) < 0, "sigmoid exported");
    CHECK(strstr(err.msg, "op 'sigmoid' (node 1) has no ONNX mapping"), "message: %s", err.msg);
    ug_net_free(&net);

    /* A discriminator's spectrally normalised weights. */
    ug_config c = {8, 2, S, 1, 5, 3, UG_NORM_ADALIN, 0, 0, NULL};
    ug_model *m = NULL;
    CHECK(ug_model_new(&m, &c, 1, &err) == 0, "%s", err.msg);
    if (m) {
        CHECK(ug_onnx_write_net(&m->net[UG_DIS_GA], "disGA", outs, 1, path, &err) < 0,
              "a discriminator exported");
        CHECK(strstr(err.msg, "disGA: node 2 (conv): the spectrally normalised weight"),
              "message: %s", err.msg);
    }
    ug_model_free(m);
    CHECK(access(path, F_OK) != 0, "a refused export left %s", path);
}

/* One line on stderr, naming what is wrong. */
static void check_cli_error(const char *args, int want_rc, const char *want)
{
    char msg[1024];
    int rc = run_cli(dir, args, 0, msg, sizeof msg);
    const char *nl = strchr(msg, '\n');
    CHECK(rc == want_rc && strstr(msg, want) && nl && nl[1] == 0,
          "ugatit %s: status %d, stderr '%s' (want %d, one line with '%s')", args, rc, msg,
          want_rc, want);
}

static void test_cli(void)
{
    char args[1024], msg[4096];
    CHECK(run_cli(dir, "export --help", 1, msg, sizeof msg) == 0 && strstr(msg, "--onnx") &&
              strstr(msg, "--direction") && strstr(msg, "heatmap"),
          "export --help: %s", msg);
    CHECK(run_cli(dir, "--help", 1, msg, sizeof msg) == 0 && strstr(msg, "export"),
          "ugatit --help lists export: %s", msg);

    snprintf(args, sizeof args, "export --onnx %s/x.onnx --model %s/missing.safetensors", dir, dir);
    check_cli_error(args, 1, "missing.safetensors");
    snprintf(args, sizeof args, "export --onnx %s/x.onnx --model %s/adalin_full.safetensors "
             "--direction C2D", dir, dir);
    check_cli_error(args, 2, "--direction must be A2B or B2A (got 'C2D')");
    snprintf(args, sizeof args, "export --onnx %s/no/such/folder/x.onnx --model "
             "%s/adalin_full.safetensors", dir, dir);
    check_cli_error(args, 1, "no/such/folder/x.onnx");
    snprintf(args, sizeof args, "export --model %s/adalin_full.safetensors", dir);
    check_cli_error(args, 2, "--onnx");

    CHECK(export_cli(&variants[0]) == 0, "export of a good checkpoint");
}

/* ---- the variants through other tools ---- */

/* Every variant exported; 0 when all were. */
static int export_all(ug_model **models)
{
    int failed = 0;
    for (int k = 0; k < N_VARIANTS; k++) {
        models[k] = make_model(&variants[k], k);
        failed |= !models[k] || export_cli(&variants[k]) < 0;
    }
    return failed ? -1 : 0;
}

static void test_checker(const char *python, const char *src)
{
    ug_model *models[N_VARIANTS];
    if (export_all(models) == 0) {
        char cmd[4096];
        int n = snprintf(cmd, sizeof cmd, "%s %s/check_onnx.py %d", python, src, S);
        for (int k = 0; k < N_VARIANTS; k++)
            n += snprintf(cmd + n, sizeof cmd - (size_t)n, " %s/%s.onnx:%s", dir,
                          variants[k].name, variants[k].no_cam_g ? "nocam" : "cam");
        fflush(stdout);
        CHECK(system(cmd) == 0, "the python3-onnx checker failed: %s", cmd);
    }
    for (int k = 0; k < N_VARIANTS; k++)
        ug_model_free(models[k]);
}

static void write_floats(const char *name, const char *what, const float *x, size_t n)
{
    char path[300];
    snprintf(path, sizeof path, "%s/%s.%s.f32", dir, name, what);
    write_bytes(path, x, n * sizeof *x);
}

/* Our forward pass on the batch of sample images, then ONNX Runtime's. */
static void test_ort(const char *src, const char *node_dir)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "bash %s/npm-ci.sh %s", src, node_dir);
    if (system(cmd) != 0) {
        CHECK(0, "could not install onnxruntime-node: %s", cmd);
        return;
    }
    ug_filelist list = {0};
    ug_error err;
    CHECK(ug_dataset_list(&list, CHECK_SAMPLES, &err) == 0, "%s", err.msg);
    const int N = (int)list.n;
    const size_t img = (size_t)3 * S * S, heat = (size_t)(S / 4) * (S / 4);
    float *in = malloc(N * img * sizeof *in), *out = malloc(N * img * sizeof *out);
    float *hm = malloc(N * heat * sizeof *hm);
    ug_model *models[N_VARIANTS] = {0};
    if (N < 2 || !in || !out || !hm || export_all(models) < 0) {
        CHECK(0, "%d sample images, or an export failed", N);
        goto done;
    }
    for (int i = 0; i < N; i++)
        CHECK(ug_load_test_image(in + i * img, list.paths[i], S, UG_PIPELINE(UG_RESIZE_BILINEAR),
                                 &err) == 0,
              "%s", err.msg);
    write_floats("samples", "input", in, N * img);
    for (int k = 0; k < N_VARIANTS; k++) {
        const variant *v = &variants[k];
        float *heatmap = v->no_cam_g ? NULL : hm;
        CHECK(ug_model_translate(models[k], v->dir, in, N, out, NULL, heatmap, &err) == 0,
              "%s: %s", v->name, err.msg);
        write_floats(v->name, "translated", out, N * img);
        int n = snprintf(cmd, sizeof cmd,
                         "NODE_PATH=%s/node_modules node %s/compare.js %s/%s.onnx "
                         "%s/samples.input.f32 %d %d 1e-4 translated=%s/%s.translated.f32",
                         node_dir, src, dir, v->name, dir, N, S, dir, v->name);
        if (heatmap) {
            write_floats(v->name, "heatmap", hm, N * heat);
            snprintf(cmd + n, sizeof cmd - (size_t)n, " heatmap=%s/%s.heatmap.f32", dir, v->name);
        }
        fflush(stdout);
        CHECK(system(cmd) == 0, "%s: ONNX Runtime's outputs differ from ours: %s", v->name, cmd);
    }
done:
    for (int k = 0; k < N_VARIANTS; k++)
        ug_model_free(models[k]);
    free(in);
    free(out);
    free(hm);
    ug_filelist_free(&list);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if ((strcmp(mode, "checker") == 0 && argc != 4) || (strcmp(mode, "ort") == 0 && argc != 4) ||
        (*mode && strcmp(mode, "checker") && strcmp(mode, "ort"))) {
        fprintf(stderr, "usage: test_onnx [checker PYTHON DIR | ort DIR NODE_DIR]\n");
        return 2;
    }
    if (strcmp(mode, "ort") == 0 && !check_samples("test_onnx"))
        return 1;
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    if (strcmp(mode, "checker") == 0) {
        test_checker(argv[2], argv[3]);
    } else if (strcmp(mode, "ort") == 0) {
        test_ort(argv[2], argv[3]);
    } else {
        test_read_back();
        test_refused();
        test_cli();
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
    return check_summary();
}
