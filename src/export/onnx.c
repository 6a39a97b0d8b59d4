/* ONNX export: walks a network's nodes through the op table (onnx_ops.c)
 * and streams the model to its file (see onnx.h). */
#include "export/onnx.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "export/onnx_ops.h"
#include "io/atomic.h"
#include "io/bytes.h"
#include "model/model.h"
#include "nn/op.h"

/* The IR version of the opset 17 release (ONNX 1.12). */
#define IR_VERSION 8

/* Which nodes the exported outputs need: the nodes are in order, so one
 * pass backwards from the outputs marks them. */
static void mark_live(const ug_net *net, const ug_onnx_output *outs, int n, char *live)
{
    for (int k = 0; k < n; k++) {
        int o = ug_net_output(net, outs[k].port);
        if (o >= 0)
            live[o] = 1;
    }
    for (int i = net->n_nodes - 1; i >= 0; i--)
        for (int j = 0; live[i] && j < UG_NODE_IN && net->nodes[i].in[j] >= 0; j++)
            live[net->nodes[i].in[j]] = 1;
}

/* The graph's nodes, inputs and outputs. */
static int build(ox_graph *g, const ug_net *net, const char *graph_name,
                 const ug_onnx_output *outs, int n, const char **val, ug_error *err)
{
    char *live = calloc((size_t)net->n_nodes, 1);
    if (!live)
        return ug_fail(err, "out of memory");
    mark_live(net, outs, n, live);
    ox_ctx c = {g, net, val};
    for (int i = 0; i < net->n_nodes && !g->failed; i++) {
        if (!live[i])
            continue;
        const char *op = ug_op_get(net->nodes[i].op)->name;
        ox_emit_fn emit = ox_op_emit(net->nodes[i].op);
        if (!emit) {
            free(live);
            return ug_fail(err, "%s: op '%s' (node %d) has no ONNX mapping", graph_name, op, i);
        }
        char name[48];
        snprintf(name, sizeof name, "n%d.%s", i, op);
        val[i] = emit(&c, i, name);
        if (!val[i])
            ug_error_prefix(err, "%s: node %d (%s)", graph_name, i, op);
    }
    free(live);
    int found = 0;
    for (int k = 0; k < n && !g->failed; k++) {
        int o = ug_net_output(net, outs[k].port);
        if (o < 0)
            continue;
        const ug_node *nd = &net->nodes[o];
        ox_node(g, "Identity", outs[k].onnx, 1, val[o]);
        ox_output(g, outs[k].onnx, nd->C, nd->H, nd->W);
        found++;
    }
    if (!g->failed && !found)
        return ug_fail(err, "%s: none of the outputs to export", graph_name);
    return g->failed ? -1 : 0;
}

/* protobuf-c's output sink: straight into the atomic file, so the model is
 * never in memory twice. */
typedef struct file_sink {
    ProtobufCBuffer base;
    ug_atomic *a;
} file_sink;

static void sink_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
    ug_atomic_write(((file_sink *)b)->a, data, len); /* a failure is reported by the commit */
}

static int write_model(Onnx__GraphProto *graph, const char *path, ug_error *err)
{
    Onnx__OperatorSetIdProto opset;
    onnx__operator_set_id_proto__init(&opset);
    opset.domain = "";
    opset.has_version = 1, opset.version = UG_ONNX_OPSET;
    Onnx__OperatorSetIdProto *opsets[1] = {&opset};
    Onnx__ModelProto model;
    onnx__model_proto__init(&model);
    model.has_ir_version = 1, model.ir_version = IR_VERSION;
    model.n_opset_import = 1, model.opset_import = opsets;
    model.producer_name = "ugatit";
    model.producer_version = UGATIT_VERSION;
    model.graph = graph;
    size_t bytes = protobuf_c_message_get_packed_size(&model.base);
    if (bytes > INT32_MAX)
        return ug_fail(err, "%s: the model needs %zu bytes, over the 2 GiB a protobuf file can "
                            "hold (ONNX external data is not supported)", path, bytes);
    ug_atomic a;
    if (ug_atomic_open(&a, path, err) < 0)
        return -1;
    file_sink sink = {{sink_append}, &a};
    protobuf_c_message_pack_to_buffer(&model.base, &sink.base);
    return ug_atomic_commit(&a, err);
}

int ug_onnx_write_net(const ug_net *net, const char *graph_name, const ug_onnx_output *outs,
                      int n, const char *path, ug_error *err)
{
    /* Initializers point at the weights as they are in memory. */
    if (!ug_host_is_little_endian())
        return ug_fail(err, "%s: ONNX export needs a little-endian host", path);
    /* The weights in host memory: the backend's, mapped until the file is written. */
    size_t bytes = net->total * sizeof(float);
    ug_net host = *net;
    host.data = net->be->map(net->data, bytes);
    const char **val = calloc((size_t)net->n_nodes, sizeof *val);
    if (!val || !host.data) {
        free(val);
        if (host.data)
            net->be->unmap(net->data, host.data, bytes, 0);
        return ug_fail(err, "out of memory");
    }
    ox_graph g;
    ox_graph_init(&g, graph_name, err);
    int rc = build(&g, &host, graph_name, outs, n, val, err);
    if (rc == 0)
        rc = write_model(&g.g, path, err);
    ox_graph_free(&g);
    free(val);
    net->be->unmap(net->data, host.data, bytes, 0);
    return rc;
}

int ug_onnx_export(const ug_model *m, ug_direction dir, const char *path, ug_error *err)
{
    static const ug_onnx_output outs[] = {{UG_OUT_IMAGE, "translated"},
                                          {UG_OUT_HEATMAP, "heatmap"}};
    /* The family's one network of this direction. */
    int gen = m->fam->translate_net[dir == UG_B2A];
    const char *name = m->fam->net_names[gen];
    if (!ug_model_has(m, gen))
        return ug_fail(err, "the checkpoint holds no %s network", name);
    /* UNIT's translation is an encoder then the other domain's decoder. */
    const ug_node *in = &m->net[gen].nodes[m->net[gen].in[0].node];
    if (in->C != 3 || in->H != m->cfg.img_size)
        return ug_fail(err, "a %s model translates with more than one network (%s reads a "
                            "latent, not images); ONNX export writes one network",
                       m->fam->name, name);
    return ug_onnx_write_net(&m->net[gen], name, outs,
                             (int)(sizeof outs / sizeof outs[0]), path, err);
}
