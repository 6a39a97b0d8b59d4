/* ONNX export (ugatit export --onnx): a generator as a standard ONNX model,
 * opset 17 (UG_ONNX_OPSET), weights as initializers. Input "image", float
 * N x 3 x S x S in [-1, 1] with a symbolic batch dimension "N"; outputs
 * "translated" of the same shape and, where the generator has CAM attention,
 * "heatmap" N x 1 x S/4 x S/4: what ug_model_translate computes. The file is
 * written atomically. */
#ifndef UG_EXPORT_ONNX_H
#define UG_EXPORT_ONNX_H

#include "nn/net.h"
#include "ugatit.h"

int ug_onnx_export(const ug_model *m, ug_direction dir, const char *path, ug_error *err);

/* Any network: its input ports become graph inputs, and each of the n
 * output ports that it has (port, the net's name; onnx, the graph's) a
 * graph output; only the nodes they need are written. An op kind without a
 * mapping is an error that names it. */
typedef struct ug_onnx_output {
    const char *port, *onnx;
} ug_onnx_output;

int ug_onnx_write_net(const ug_net *net, const char *graph_name, const ug_onnx_output *outs,
                      int n, const char *path, ug_error *err);

#endif
