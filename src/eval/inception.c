/* The Inception-v3 graph (see inception.h). The architecture is written once
 * (the layer table of the notes' section 2.3 and the blocks of 2.4) and run
 * twice: first registering the parameters in state_dict order, then, after
 * ug_net_alloc, appending the nodes. */
#include "eval/inception.h"

#include <stdio.h>

#include "nn/build.h"

typedef struct arch {
    ug_builder *b;
    int graph;              /* 0: register parameters; 1: build nodes */
    ug_inception_kind kind;
    const char *block;      /* the Mixed_* prefix of the block being built */
} arch;

/* BasicConv2d BLOCK.NAME: conv cin -> cout, kh x kw, zero padding ph, pw,
 * no bias; BatchNorm eps 0.001; ReLU. */
static int basic(arch *a, int x, const char *name, int cin, int cout, int kh, int kw, int stride,
                 int ph, int pw)
{
    ug_builder *b = a->b;
    char p[UG_NAME_MAX];
    if (a->block)
        snprintf(p, sizeof p, "%s.%s", a->block, name);
    else
        snprintf(p, sizeof p, "%s", name);
    if (!a->graph) {
        char w[UG_NAME_MAX + 16];
        snprintf(w, sizeof w, "%s.conv.weight", p);
        ug_b_weight(b, w, 4, (int64_t[]){cout, cin, kh, kw});
        snprintf(w, sizeof w, "%s.bn", p);
        ug_b_bnorm_params(b, w, cout);
        return 0;
    }
    const int pad[4] = {ph, ph, pw, pw};
    x = ug_b_conv_zpad(b, x, ug_b_find(b, "%s.conv.weight", p), -1, kh, kw, stride, pad);
    x = ug_b_bnorm(b, x, ug_b_find(b, "%s.bn.weight", p), 0.001f, 0.1f);
    return ug_b_unary(b, OP_RELU, x);
}

/* A square convolution with the same padding on every side. */
static int sq(arch *a, int x, const char *name, int cin, int cout, int k, int stride, int pad)
{
    return basic(a, x, name, cin, cout, k, k, stride, pad, pad);
}

static int maxpool(arch *a, int x, int k, int stride, int pad)
{
    return a->graph ? ug_b_pool(a->b, OP_MAXPOOL, x, k, k, stride, pad, 0) : 0;
}

/* The 3x3 stride-1 pooling of a branch_pool: torchvision's average counts
 * the zero padding in its divisor, the FID graph's does not. */
static int branch_pool(arch *a, int x)
{
    return a->graph ? ug_b_pool(a->b, OP_AVGPOOL, x, 3, 3, 1, 1,
                                a->kind == UG_INCEPTION_TORCHVISION)
                    : 0;
}

static int concat(arch *a, const int *xs, int n) { return a->graph ? ug_b_concat(a->b, xs, n) : 0; }

static int block_a(arch *a, int x, int cin, int pool_features)
{
    int br[4];
    br[0] = sq(a, x, "branch1x1", cin, 64, 1, 1, 0);
    br[1] = sq(a, x, "branch5x5_1", cin, 48, 1, 1, 0);
    br[1] = sq(a, br[1], "branch5x5_2", 48, 64, 5, 1, 2);
    br[2] = sq(a, x, "branch3x3dbl_1", cin, 64, 1, 1, 0);
    br[2] = sq(a, br[2], "branch3x3dbl_2", 64, 96, 3, 1, 1);
    br[2] = sq(a, br[2], "branch3x3dbl_3", 96, 96, 3, 1, 1);
    br[3] = sq(a, branch_pool(a, x), "branch_pool", cin, pool_features, 1, 1, 0);
    return concat(a, br, 4);
}

static int block_b(arch *a, int x, int cin)
{
    int br[3];
    br[0] = sq(a, x, "branch3x3", cin, 384, 3, 2, 0);
    br[1] = sq(a, x, "branch3x3dbl_1", cin, 64, 1, 1, 0);
    br[1] = sq(a, br[1], "branch3x3dbl_2", 64, 96, 3, 1, 1);
    br[1] = sq(a, br[1], "branch3x3dbl_3", 96, 96, 3, 2, 0);
    br[2] = maxpool(a, x, 3, 2, 0);
    return concat(a, br, 3);
}

/* 1 x 7 and 7 x 1 convolutions keep the size with padding (0, 3) and (3, 0). */
static int c1x7(arch *a, int x, const char *name, int cin, int cout)
{
    return basic(a, x, name, cin, cout, 1, 7, 1, 0, 3);
}

static int c7x1(arch *a, int x, const char *name, int cin, int cout)
{
    return basic(a, x, name, cin, cout, 7, 1, 1, 3, 0);
}

static int block_c(arch *a, int x, int c7)
{
    int br[4];
    br[0] = sq(a, x, "branch1x1", 768, 192, 1, 1, 0);
    br[1] = sq(a, x, "branch7x7_1", 768, c7, 1, 1, 0);
    br[1] = c1x7(a, br[1], "branch7x7_2", c7, c7);
    br[1] = c7x1(a, br[1], "branch7x7_3", c7, 192);
    br[2] = sq(a, x, "branch7x7dbl_1", 768, c7, 1, 1, 0);
    br[2] = c7x1(a, br[2], "branch7x7dbl_2", c7, c7);
    br[2] = c1x7(a, br[2], "branch7x7dbl_3", c7, c7);
    br[2] = c7x1(a, br[2], "branch7x7dbl_4", c7, c7);
    br[2] = c1x7(a, br[2], "branch7x7dbl_5", c7, 192);
    br[3] = sq(a, branch_pool(a, x), "branch_pool", 768, 192, 1, 1, 0);
    return concat(a, br, 4);
}

static int block_d(arch *a, int x)
{
    int br[3];
    br[0] = sq(a, x, "branch3x3_1", 768, 192, 1, 1, 0);
    br[0] = sq(a, br[0], "branch3x3_2", 192, 320, 3, 2, 0);
    br[1] = sq(a, x, "branch7x7x3_1", 768, 192, 1, 1, 0);
    br[1] = c1x7(a, br[1], "branch7x7x3_2", 192, 192);
    br[1] = c7x1(a, br[1], "branch7x7x3_3", 192, 192);
    br[1] = sq(a, br[1], "branch7x7x3_4", 192, 192, 3, 2, 0);
    br[2] = maxpool(a, x, 3, 2, 0);
    return concat(a, br, 3);
}

/* InceptionE; last: Mixed_7c, whose FID pooling is a max pool. The 1 x 3
 * and 3 x 1 pairs read the same input and are concatenated in place, so the
 * block's output is one concatenation of six tensors in the module's order. */
static int block_e(arch *a, int x, int cin, int last)
{
    int br[6];
    br[0] = sq(a, x, "branch1x1", cin, 320, 1, 1, 0);
    int t = sq(a, x, "branch3x3_1", cin, 384, 1, 1, 0);
    br[1] = basic(a, t, "branch3x3_2a", 384, 384, 1, 3, 1, 0, 1);
    br[2] = basic(a, t, "branch3x3_2b", 384, 384, 3, 1, 1, 1, 0);
    t = sq(a, x, "branch3x3dbl_1", cin, 448, 1, 1, 0);
    t = sq(a, t, "branch3x3dbl_2", 448, 384, 3, 1, 1);
    br[3] = basic(a, t, "branch3x3dbl_3a", 384, 384, 1, 3, 1, 0, 1);
    br[4] = basic(a, t, "branch3x3dbl_3b", 384, 384, 3, 1, 1, 1, 0);
    int p = last && a->kind == UG_INCEPTION_FID ? maxpool(a, x, 3, 1, 1) : branch_pool(a, x);
    br[5] = sq(a, p, "branch_pool", cin, 192, 1, 1, 0);
    return concat(a, br, 6);
}

static int network(arch *a, int x)
{
    a->block = NULL;
    x = sq(a, x, "Conv2d_1a_3x3", 3, 32, 3, 2, 0);
    x = sq(a, x, "Conv2d_2a_3x3", 32, 32, 3, 1, 0);
    x = sq(a, x, "Conv2d_2b_3x3", 32, 64, 3, 1, 1);
    x = maxpool(a, x, 3, 2, 0);
    x = sq(a, x, "Conv2d_3b_1x1", 64, 80, 1, 1, 0);
    x = sq(a, x, "Conv2d_4a_3x3", 80, 192, 3, 1, 0);
    x = maxpool(a, x, 3, 2, 0);
    static const struct {
        const char *name;
        int in, pf;
    } mixed5[3] = {{"Mixed_5b", 192, 32}, {"Mixed_5c", 256, 64}, {"Mixed_5d", 288, 64}};
    for (int i = 0; i < 3; i++) {
        a->block = mixed5[i].name;
        x = block_a(a, x, mixed5[i].in, mixed5[i].pf);
    }
    a->block = "Mixed_6a";
    x = block_b(a, x, 288);
    static const char *const mixed6[4] = {"Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"};
    static const int c7[4] = {128, 160, 160, 192};
    for (int i = 0; i < 4; i++) {
        a->block = mixed6[i];
        x = block_c(a, x, c7[i]);
    }
    a->block = "Mixed_7a";
    x = block_d(a, x);
    a->block = "Mixed_7b";
    x = block_e(a, x, 1280, 0);
    a->block = "Mixed_7c";
    x = block_e(a, x, 2048, 1);
    a->block = NULL;
    return x;
}

int ug_inception_build(ug_net *net, ug_inception_kind kind, ug_error *err)
{
    ug_net_init(net);
    ug_builder b = {net, err, 0};
    arch a = {&b, 0, kind, NULL};
    network(&a, 0);
    if (b.failed || ug_net_alloc(net, err) < 0)
        goto fail;
    a.graph = 1;
    int x = ug_b_input(&b, "image", 3, UG_INCEPTION_SIZE, UG_INCEPTION_SIZE);
    x = network(&a, x);
    ug_b_output(&b, UG_INCEPTION_OUT, ug_b_unary(&b, OP_GAP, x));
    if (b.failed)
        goto fail;
    return 0;
fail:
    ug_net_free(net);
    return -1;
}
