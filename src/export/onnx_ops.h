/* The ONNX mapping of each op kind: a table indexed by ug_op (onnx_ops.c)
 * whose entry writes one node of a network as one or a few standard ONNX
 * nodes (opset 17). Every value is 4-D, N x C x H x W, as the node's shape. */
#ifndef UG_EXPORT_ONNX_OPS_H
#define UG_EXPORT_ONNX_OPS_H

#include "export/onnx_graph.h"

/* The opset the mappings are written for: the newest that Debian's
 * python3-onnx (1.12) checks. */
#define UG_ONNX_OPSET 17

typedef struct ox_ctx {
    ox_graph *g;
    const ug_net *net;
    const char **val; /* the ONNX value of each node written so far */
} ox_ctx;

/* Writes node i, naming its result out (the input node keeps the graph
 * input's name); returns the result's name, or NULL with the error in
 * c->g->err. */
typedef const char *(*ox_emit_fn)(ox_ctx *c, int i, const char *out);

/* The mapping of op, or NULL for an op kind that has none. */
ox_emit_fn ox_op_emit(ug_op op);

#endif
