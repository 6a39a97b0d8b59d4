/* A network: a table of named parameters laid out in one contiguous block
 * (the release's state_dict, in its order), and a graph of nodes over them that
 * the tape (tape.c) runs forward and backward. The graph is data, not code, so
 * generator and discriminator variants (ablations, other normalisations) are
 * other builders, and a new backend or an exporter walks the same list. */
#ifndef UG_NET_H
#define UG_NET_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "core/error.h"
#include "core/rng.h"

#define UG_NAME_MAX 64

typedef enum {
    UG_TRAINABLE, /* a parameter: gets a gradient and an optimiser update */
    UG_BUFFER,    /* state that is saved but not trained (spectral-norm u, v) */
} ug_param_kind;

/* How a new network fills a parameter (ug_net_init_default). */
typedef enum {
    UG_INIT_NONE,        /* left at zero */
    UG_INIT_UNIFORM,     /* U(-init_value, init_value): PyTorch's default for the weights
                            and biases of convolutions and linears, bound 1/sqrt(fan_in) */
    UG_INIT_CONST,       /* every element init_value */
    UG_INIT_UNIT_NORMAL, /* N(0, 1) scaled to unit length: spectral norm's u and v */
    UG_INIT_NORMAL,      /* N(0, init_value^2): CycleGAN's init_weights('normal', 0.02) */
    UG_INIT_UNIT_UNIFORM, /* U[0, 1): NVIDIA's LayerNorm gamma */
} ug_init_kind;

typedef struct ug_param {
    char name[UG_NAME_MAX]; /* state_dict key within the network, e.g. "model.1.weight_orig" */
    ug_param_kind kind;
    int ndim;
    int64_t shape[4];
    size_t numel;
    size_t off;      /* offset in floats into ug_net.data (and the Adam moments) */
    size_t goff;     /* offset in floats into ug_net.grad; unused where terms >= 0 */
    int terms;       /* its gradient's rank-1 terms (ug_net.terms[terms]), or -1: dense */
    int sn_u, sn_v;  /* for a spectrally normalised weight: its u and v buffers, else -1 */
    ug_init_kind init;
    double init_value;
    int clamped;     /* projected into [clamp_lo, clamp_hi] after each update (AdaLIN's rho) */
    float clamp_lo, clamp_hi;
} ug_param;

/* The op kinds. What each one does, its shape rule, forward and backward live
 * in its op family's file under src/ops (the table is src/ops/ops.c). */
typedef enum {
    OP_INPUT,   /* the network input */
    OP_PAD,     /* reflection pad by .pad on every side */
    OP_CONV,    /* conv kh x kw, .stride, zero padding .zpad, weight p[0], bias p[1] (or -1) */
    OP_INORM,   /* InstanceNorm, no affine, .eps */
    OP_LINNORM, /* adaILN (gamma, beta from nodes in[1], in[2]) or ILN (params p[1], p[2]);
                   rho p[0], or fixed at .rho when p[0] < 0 */
    OP_RELU,
    OP_LRELU,   /* negative slope .slope */
    OP_TANH,
    OP_UP2,     /* nearest-neighbour upsampling x2 */
    OP_GAP,     /* global average pool -> C x 1 x 1 */
    OP_GMP,     /* global max pool -> C x 1 x 1 */
    OP_LINEAR,  /* on the flattened input; weight p[0], bias p[1] (or -1) */
    OP_SCALE,   /* per-channel scaling by the raw weight p[0] (the CAM re-weighting) */
    OP_CONCAT,  /* channel concatenation of in[0], in[1], ... (the inputs before the first -1) */
    OP_CHSUM,   /* sum over channels -> 1 x H x W (the heatmap) */
    OP_ADD,     /* in[0] + in[1]; either may be C x 1 x 1, broadcast over H, W */
    OP_DECONV,  /* transposed conv k x k, .stride, .pad, .out_pad; weight p[0] (Cin x Cout x k x k),
                   bias p[1] (or -1) */
    OP_BNORM,   /* BatchNorm, .eps, .momentum; weight p[0], bias p[1], running_mean p[2],
                   running_var p[3], num_batches_tracked p[4] */
    OP_GNORM,   /* GroupNorm of .groups groups, .eps; weight p[0], bias p[1] */
    OP_MAXPOOL, /* max pool kh x kw, .stride, -inf padding .pad */
    OP_AVGPOOL, /* average pool kh x kw, .stride, zero padding .pad, .count_pad */
    OP_SIGMOID,
    OP_MUL,     /* in[0] * in[1]; either may be C x 1 x 1, broadcast over H, W */
    OP_NVLNORM, /* NVIDIA's LayerNorm (UNIT, MUNIT), .eps; gamma p[0], beta p[1] */
    OP_ADAIN,   /* MUNIT's AdaIN, .eps: beta and gamma per sample from channels .off .. .off + 2C
                   of node in[1] (C x 1 x 1 each, beta first) */
    OP_DLNORM,  /* DRIT's LayerNorm (GroupNorm of one group), .eps; weight p[0], bias p[1],
                   each C x 1 x 1 */
    OP_CONCAT_TILED, /* in[0] then the code in[1] (Z x 1 x 1) tiled over in[0]'s plane */
    OP_COUNT
} ug_op;

#define UG_NODE_IN 8
#define UG_NODE_P 5

typedef struct ug_node {
    ug_op op;
    int in[UG_NODE_IN]; /* input nodes, -1 where unused */
    int p[UG_NODE_P];   /* parameters, -1 where unused */
    /* Attributes, read by the op (zero where the op has none). */
    int kh, kw, stride; /* kernel height and width, stride */
    int pad;            /* padding on every side (reflection pad, deconv, pooling) */
    int zpad[4];        /* a convolution's zero padding: top, bottom, left, right */
    int out_pad;        /* a transposed convolution's output padding */
    int groups;         /* GroupNorm */
    int count_pad;      /* average pooling: padding counts in the divisor */
    float eps;          /* normalisations */
    float rho;          /* AdaLIN/ILN without a rho parameter (p[0] < 0): rho fixed at this */
    float momentum;     /* BatchNorm's running statistics */
    float slope;        /* LeakyReLU's negative slope */
    int off;            /* AdaIN: the first channel of its affine in in[1] */
    int C, H, W;        /* output shape of one sample, set by the op's shape rule */
} ug_node;

#define UG_NET_PORTS 4
#define UG_PORT_NAME 16

/* The output names the model code reads. */
#define UG_OUT_IMAGE "image"     /* a generator's translation, a discriminator's logits */
#define UG_OUT_CAM "cam_logit"   /* the CAM classifier's logits, C = 2 */
#define UG_OUT_HEATMAP "heatmap" /* the attention heatmap, C = 1 */

typedef struct ug_port {
    char name[UG_PORT_NAME];
    int node;
} ug_port;

/* A weight gradient kept as the rank-1 terms it is a sum of instead of a
 * dense array: scale * sum over r of u_r v_r^T, u_r rows floats, v_r cols.
 * A linear layer on a flattened feature map gets one term per image per use
 * (dout's row, the input's row), and its input is far wider than its output:
 * the full generator's MLP weight is 256 x 1,048,576, a 1 GB gradient, while a
 * step's terms take a few MB. Adam reads the terms directly. */
typedef struct ug_terms {
    int param;
    int rows, cols;
    int rank, cap; /* terms held, room for */
    float scale;   /* 1, or 1 / ranks once gathered over them (their mean) */
    float *u, *v;  /* backend memory: cap x rows, cap x cols */
} ug_terms;

typedef struct ug_net {
    ug_param *params;
    int n_params, cap_params;
    ug_node *nodes;
    int n_nodes, cap_nodes;
    size_t total;     /* floats in data (and in grad) */
    const ug_backend *be; /* whose memory data and grad are (ug_net_init: the default) */
    float *data;      /* parameters and buffers, contiguous */
    float *grad;      /* the dense gradients, at each parameter's goff (buffer entries
                         unused); allocated by the first ug_net_zero_grad, so a
                         model that only translates never holds them */
    size_t grad_total; /* floats in grad: total less the weights kept as terms */
    ug_terms *terms;   /* the weights whose gradient is kept as terms (ug_net_zero_grad
                          decides which) */
    int n_terms;
    /* Named inputs (OP_INPUT nodes, in the order ug_tape_forward takes their
     * data) and outputs; a name a network does not have is absent. */
    ug_port in[UG_NET_PORTS], out[UG_NET_PORTS];
    int n_in, n_out;
} ug_net;

void ug_net_init(ug_net *n);
void ug_net_free(ug_net *n);

/* Building: parameters first (in state_dict order), then ug_net_alloc, then the
 * graph. Returns the index, or -1 when out of memory. */
int ug_net_add_param(ug_net *n, const char *name, ug_param_kind kind, int ndim,
                     const int64_t *shape);
/* A spectrally normalised weight: NAME_orig (trainable, initialised as a
 * weight) and NAME_u, NAME_v buffers. */
int ug_net_add_sn_param(ug_net *n, const char *name, int ndim, const int64_t *shape);
int ug_net_find(const ug_net *n, const char *name);
int ug_net_alloc(ug_net *n, ug_error *err);
int ug_net_add_node(ug_net *n, ug_node node);
/* The node of output (or input) NAME, or -1 when the network has none. */
int ug_net_output(const ug_net *n, const char *name);
int ug_net_input(const ug_net *n, const char *name);

static inline float *ug_param_data(const ug_net *n, int p) { return n->data + n->params[p].off; }
/* A dense gradient (a parameter whose terms < 0). */
static inline float *ug_param_grad(const ug_net *n, int p) { return n->grad + n->params[p].goff; }

/* Fills every parameter as its init says, in table order, drawing from rng
 * (the order in which PyTorch's modules draw theirs), on the host (mapped). */
void ug_net_init_default(ug_net *n, ug_rng *rng);
/* Projects every clamped parameter into its range (k's clamp kernel). */
void ug_net_clamp(ug_net *n, ug_kctx *k);
/* Zeroes the gradients, allocating them on first use. That first call
 * decides which weights keep their gradient as terms: those of a linear layer
 * on a flattened feature map (an input of more than one pixel) that nothing
 * else reads and that is not spectrally normalised. */
int ug_net_zero_grad(ug_net *n, ug_error *err);
/* Adds N terms to parameter p's gradient: u_r = dout's row r (rows floats),
 * v_r = in's row r (cols floats), both backend memory. */
int ug_net_add_terms(const ug_net *n, int p, const float *dout, const float *in, int N,
                     ug_error *err);
/* Room for cap terms in t (of a network of backend be), keeping those held. */
int ug_terms_reserve(const ug_backend *be, ug_terms *t, int cap, ug_error *err);
/* Parameter p's gradient, dense, into host memory out (numel floats),
 * whichever way it is kept. */
int ug_net_read_grad(const ug_net *n, int p, float *out, ug_error *err);
/* The squared L2 norm of every trainable parameter's gradient, summed in
 * double, into *sq; and every such gradient multiplied by coef. */
int ug_net_grad_norm2(const ug_net *n, double *sq, ug_error *err);
int ug_net_scale_grad(ug_net *n, float coef, ug_error *err);
/* Total trainable floats. */
size_t ug_net_trainable(const ug_net *n);

#endif
