/* Graph building with shape inference. Each helper appends one node and
 * returns its index; once a step fails (a size too small for a padding or a
 * convolution, a parameter of the wrong shape, or out of memory) every later
 * helper returns -1, so a builder is written as straight-line code and checks
 * b->failed once at the end. The op's shape rule (src/ops) checks each node. */
#ifndef UG_BUILD_H
#define UG_BUILD_H

#include "nn/net.h"
#include "ugatit.h"

typedef struct ug_builder {
    ug_net *net;
    ug_error *err;
    int failed;
} ug_builder;

/* A named input (its data is the next argument of ug_tape_forward) and a
 * named output. */
int ug_b_input(ug_builder *b, const char *name, int C, int H, int W);
int ug_b_output(ug_builder *b, const char *name, int node);
int ug_b_pad(ug_builder *b, int x, int pad);                /* reflection, every side */
int ug_b_conv(ug_builder *b, int x, int w, int bias, int k, int stride);
/* kh x kw with zero padding pad[] (top, bottom, left, right). */
int ug_b_conv_zpad(ug_builder *b, int x, int w, int bias, int kh, int kw, int stride,
                   const int pad[4]);
/* Transposed convolution k x k; weight Cin x Cout x k x k. */
int ug_b_deconv(ug_builder *b, int x, int w, int bias, int k, int stride, int pad, int out_pad);
int ug_b_unary(ug_builder *b, ug_op op, int x); /* an op without attributes or parameters:
                                                   OP_RELU, OP_TANH, OP_SIGMOID, OP_UP2,
                                                   OP_GAP, OP_GMP, OP_CHSUM */
/* OP_MAXPOOL or OP_AVGPOOL (count_pad: PyTorch's count_include_pad; 0 for max). */
int ug_b_pool(ug_builder *b, ug_op op, int x, int kh, int kw, int stride, int pad,
              int count_pad);
/* BatchNorm with the five parameters ug_b_bnorm_params registered from index p. */
int ug_b_bnorm(ug_builder *b, int x, int p, float eps, float momentum);
int ug_b_inorm(ug_builder *b, int x, float eps);
int ug_b_lrelu(ug_builder *b, int x, float slope);
/* adaILN when gamma_node/beta_node >= 0, else ILN with parameters gamma_p, beta_p. */
int ug_b_linnorm(ug_builder *b, int x, int rho, int gamma_node, int beta_node, int gamma_p,
                 int beta_p, float eps);
/* The same with rho fixed (no rho parameter): the ablations' IN (1), LN (0), AdaIN (1). */
int ug_b_linnorm_fixed(ug_builder *b, int x, float rho, int gamma_node, int beta_node,
                       int gamma_p, int beta_p, float eps);
/* torch.nn.GroupNorm(groups, C, eps) with weight and bias parameters of C. */
int ug_b_groupnorm(ug_builder *b, int x, int groups, int weight, int bias, float eps);
/* NVIDIA's LayerNorm (UNIT, MUNIT) with gamma and beta parameters of C. */
int ug_b_nvlnorm(ug_builder *b, int x, int gamma, int beta, float eps);
/* MUNIT's AdaIN of x, beta and gamma from channels off .. off + 2C of node p (C x 1 x 1
 * each, beta first: the MLP's output). */
int ug_b_adain(ug_builder *b, int x, int p, int off, float eps);
/* DRIT's LayerNorm with weight and bias parameters of C x 1 x 1. */
int ug_b_dlnorm(ug_builder *b, int x, int weight, int bias, float eps);
int ug_b_linear(ug_builder *b, int x, int w, int bias);
int ug_b_scale(ug_builder *b, int x, int w);
int ug_b_binary(ug_builder *b, ug_op op, int x, int y); /* OP_CONCAT, OP_ADD, OP_MUL,
                                                           OP_CONCAT_TILED */
/* Channel concatenation of n (2 to UG_NODE_IN) nodes. */
int ug_b_concat(ug_builder *b, const int *xs, int n);

/* The CAM attention block shared by generator and discriminator: the pooled
 * features of x through gap_w and gmp_w give the cam logits (UG_OUT_CAM);
 * the feature maps re-weighted by the same weights, concatenated, through
 * conv1x1 (conv_w, conv_b) and a ReLU (leaky: LeakyReLU 0.2) give the
 * result, whose channel sum is the heatmap (UG_OUT_HEATMAP). OP_LINEAR
 * uses a spectrally normalised weight where there is one, OP_SCALE always
 * the raw one: the release's discriminator quirk. */
int ug_b_cam(ug_builder *b, int x, int gap_w, int gmp_w, int conv_w, int conv_b, int leaky);

/* Parameters, registered in state_dict order before ug_net_alloc, each with
 * how a new network fills it (failures reported through the builder):
 * a convolution's or linear's weight and bias (PyTorch's uniform default,
 * the bias's bound from its layer's fan_in); a spectrally normalised weight
 * (NAME_orig plus its u and v buffers); a constant start value. */
int ug_b_weight(ug_builder *b, const char *name, int ndim, const int64_t *shape);
int ug_b_bias(ug_builder *b, const char *name, int64_t n, int64_t fan_in);
int ug_b_sn_weight(ug_builder *b, const char *name, int ndim, const int64_t *shape);
/* A weight drawn from N(0, std^2) (CycleGAN's init). */
int ug_b_normal_weight(ug_builder *b, const char *name, int ndim, const int64_t *shape,
                       double std);
/* A parameter drawn from U[0, 1) (NVIDIA's LayerNorm gamma). */
int ug_b_unit_uniform(ug_builder *b, const char *name, int ndim, const int64_t *shape);
int ug_b_const(ug_builder *b, const char *name, int ndim, const int64_t *shape, float value);
/* A buffer (saved, not trained) starting at value. */
int ug_b_buffer(ug_builder *b, const char *name, int ndim, const int64_t *shape, float value);
/* BatchNorm's PREFIX.weight (1), .bias (0), and buffers .running_mean (0),
 * .running_var (1), .num_batches_tracked (a scalar, 0), in this order, C
 * values each; returns the first index. */
int ug_b_bnorm_params(ug_builder *b, const char *prefix, int64_t C);
/* Parameter p is kept in [lo, hi] after every update; returns p. */
int ug_b_clamp(ug_builder *b, int p, float lo, float hi);
/* Looks a parameter up by name; a missing one is a builder bug, reported. */
int ug_b_find(ug_builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A network of configuration c in the two passes of every builder: params
 * registers the parameters, which are then allocated, and graph adds the
 * nodes that use them. On failure net is freed and -1 returned; *in_graph
 * (may be NULL) tells whether the graph failed, i.e. c's shapes do not fit
 * the network, which a caller may want to say. */
int ug_b_build(ug_net *net, const ug_config *c,
               void (*params)(ug_builder *, const ug_config *),
               void (*graph)(ug_builder *, const ug_config *), int *in_graph,
               ug_error *err);

#endif
