/* Building an ONNX graph: the protobuf-c messages of Debian's onnx.proto
 * (generated at build time by protoc-c), every one of them, their arrays and
 * strings owned by the ox_graph and freed with it. Like the network builder
 * (nn/build.h), once a call fails (out of memory, a NULL input name from an
 * earlier failure) every later call does nothing and returns NULL, so the op
 * mappings are straight-line code that checks g->failed once. */
#ifndef UG_EXPORT_ONNX_GRAPH_H
#define UG_EXPORT_ONNX_GRAPH_H

#include <stdint.h>

#include "core/error.h"
#include "nn/net.h"
#include "onnx.pb-c.h"

typedef struct ox_graph {
    Onnx__GraphProto g;
    void **owned;          /* every allocation below g but its arrays of
                              pointers, freed by ox_graph_free */
    size_t n_owned;
    Onnx__NodeProto *last; /* the node that ox_attr_* set attributes of */
    unsigned tmp;          /* counter for the names of intermediate values */
    ug_error *err;
    int failed;
} ox_graph;

void ox_graph_init(ox_graph *g, const char *name, ug_error *err);
void ox_graph_free(ox_graph *g);

/* A node op(in[0], ..., in[n_in - 1]) with one output, named out (NULL: a
 * fresh name); returns that name. An input "" is an omitted optional one.
 * ox_node takes the n_in input names (at most OX_MAX_IN) as arguments. */
#define OX_MAX_IN 8
const char *ox_nodev(ox_graph *g, const char *op, const char *out, int n_in,
                     const char *const *in);
const char *ox_node(ox_graph *g, const char *op, const char *out, int n_in, ...);

/* Attributes of the last node added. */
void ox_attr_int(ox_graph *g, const char *name, int64_t v);
void ox_attr_float(ox_graph *g, const char *name, float v);
void ox_attr_string(ox_graph *g, const char *name, const char *v);
void ox_attr_ints(ox_graph *g, const char *name, int n, const int64_t *v);

/* A graph input or output: float N x C x H x W with a symbolic batch "N". */
void ox_input(ox_graph *g, const char *name, int C, int H, int W);
void ox_output(ox_graph *g, const char *name, int C, int H, int W);

/* Initializers, raw little-endian data (the exporter runs on little-endian
 * hosts only). Each is made once per name; a second request returns it.
 *
 * Parameter p of net with dims (ndim of them, numel as the parameter's),
 * pointing at the network's own data, which must outlive the graph. Named
 * after the parameter, or "NAME.AxBxC" where the dims are not its shape. */
const char *ox_param(ox_graph *g, const ug_net *net, int p, int ndim, const int64_t *dims);
/* Small constants, copied: n int64 values or floats (1-D), n copies of v
 * (1-D), and a scalar (0-D) named after its value. */
const char *ox_ints(ox_graph *g, const char *name, int n, const int64_t *v);
const char *ox_floats(ox_graph *g, const char *name, int n, const float *v);
const char *ox_fill(ox_graph *g, const char *name, int n, float v);
const char *ox_scalar(ox_graph *g, float v);

#endif
