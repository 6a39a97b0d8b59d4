/* Building an ONNX graph (see onnx_graph.h). */
#include "export/onnx_graph.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *oom(ox_graph *g)
{
    if (!g->failed)
        ug_fail(g->err, "out of memory building the ONNX graph");
    g->failed = 1;
    return NULL;
}

/* arr (n pointers of size bytes each) with room for one more: the arrays
 * grow by doubling, so the capacity is n rounded up to a power of two. */
static void *room(ox_graph *g, void *arr, size_t n, size_t size)
{
    if (n & (n - 1))
        return arr;
    void *p = realloc(arr, (n ? 2 * n : 1) * size);
    return p ? p : oom(g);
}

/* Takes ownership of p (freed with the graph); NULL when p is NULL. */
static void *own(ox_graph *g, void *p)
{
    void **owned = p ? room(g, g->owned, g->n_owned, sizeof *g->owned) : NULL;
    if (!owned) {
        free(p);
        return oom(g);
    }
    g->owned = owned;
    g->owned[g->n_owned++] = p;
    return p;
}

static void *alloc(ox_graph *g, size_t bytes)
{
    return g->failed ? NULL : own(g, calloc(1, bytes ? bytes : 1));
}

static char *str(ox_graph *g, const char *s)
{
    char *p = alloc(g, strlen(s) + 1);
    return p ? memcpy(p, s, strlen(s) + 1) : NULL;
}

void ox_graph_init(ox_graph *g, const char *name, ug_error *err)
{
    memset(g, 0, sizeof *g);
    onnx__graph_proto__init(&g->g);
    g->err = err;
    g->g.name = str(g, name);
}

void ox_graph_free(ox_graph *g)
{
    for (size_t i = 0; i < g->g.n_node; i++)
        free(g->g.node[i]->attribute);
    free(g->g.node);
    free(g->g.initializer);
    free(g->g.input);
    free(g->g.output);
    for (size_t i = 0; i < g->n_owned; i++)
        free(g->owned[i]);
    free(g->owned);
    memset(g, 0, sizeof *g);
}

const char *ox_node(ox_graph *g, const char *op, const char *out, int n_in, ...)
{
    const char *in[OX_MAX_IN];
    if (n_in > OX_MAX_IN) {
        ug_fail(g->err, "internal: %s node of %d inputs", op, n_in);
        g->failed = 1;
        return NULL;
    }
    va_list ap;
    va_start(ap, n_in);
    for (int j = 0; j < n_in; j++)
        in[j] = va_arg(ap, const char *);
    va_end(ap);
    return ox_nodev(g, op, out, n_in, in);
}

const char *ox_nodev(ox_graph *g, const char *op, const char *out, int n_in,
                     const char *const *in)
{
    if (g->failed)
        return NULL;
    for (int j = 0; j < n_in; j++)
        if (!in[j]) {
            ug_fail(g->err, "internal: %s node without its input %d", op, j);
            g->failed = 1;
            return NULL;
        }
    Onnx__NodeProto *nd = alloc(g, sizeof *nd);
    char **ins = alloc(g, (size_t)n_in * sizeof *ins);
    char **outs = alloc(g, sizeof *outs);
    char tmp[32];
    if (!out) {
        snprintf(tmp, sizeof tmp, "t%u", g->tmp++);
        out = tmp;
    }
    for (int j = 0; ins && j < n_in; j++)
        ins[j] = str(g, in[j]);
    if (outs)
        outs[0] = str(g, out);
    char *type = str(g, op);
    Onnx__NodeProto **nodes =
        g->failed ? NULL : room(g, g->g.node, g->g.n_node, sizeof *nodes);
    if (!nodes)
        return NULL;
    onnx__node_proto__init(nd);
    nd->op_type = type;
    nd->n_input = (size_t)n_in, nd->input = ins;
    nd->n_output = 1, nd->output = outs;
    g->g.node = nodes;
    g->g.node[g->g.n_node++] = nd;
    g->last = nd;
    return outs[0];
}

/* A new attribute of the last node, of the given type. */
static Onnx__AttributeProto *attr(ox_graph *g, const char *name,
                                  Onnx__AttributeProto__AttributeType type)
{
    if (g->failed)
        return NULL;
    Onnx__NodeProto *nd = g->last;
    Onnx__AttributeProto *a = alloc(g, sizeof *a);
    char *copy = str(g, name);
    /* A node's attribute array grows by one each time: a few per node. */
    Onnx__AttributeProto **arr =
        a && copy ? realloc(nd->attribute, (nd->n_attribute + 1) * sizeof *arr) : NULL;
    if (!arr)
        return oom(g);
    onnx__attribute_proto__init(a);
    a->name = copy;
    a->has_type = 1, a->type = type;
    nd->attribute = arr;
    nd->attribute[nd->n_attribute++] = a;
    return a;
}

void ox_attr_int(ox_graph *g, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = attr(g, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    if (a)
        a->has_i = 1, a->i = v;
}

void ox_attr_float(ox_graph *g, const char *name, float v)
{
    Onnx__AttributeProto *a = attr(g, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    if (a)
        a->has_f = 1, a->f = v;
}

void ox_attr_string(ox_graph *g, const char *name, const char *v)
{
    Onnx__AttributeProto *a = attr(g, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    char *copy = a ? str(g, v) : NULL;
    if (copy)
        a->has_s = 1, a->s.len = strlen(v), a->s.data = (uint8_t *)copy;
}

void ox_attr_ints(ox_graph *g, const char *name, int n, const int64_t *v)
{
    Onnx__AttributeProto *a = attr(g, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    int64_t *copy = a ? alloc(g, (size_t)n * sizeof *copy) : NULL;
    if (copy)
        a->n_ints = (size_t)n, a->ints = memcpy(copy, v, (size_t)n * sizeof *copy);
}

/* A float tensor type N x C x H x W, N symbolic. */
static Onnx__ValueInfoProto *value_info(ox_graph *g, const char *name, int C, int H, int W)
{
    Onnx__ValueInfoProto *vi = alloc(g, sizeof *vi);
    Onnx__TypeProto *type = alloc(g, sizeof *type);
    Onnx__TypeProto__Tensor *tensor = alloc(g, sizeof *tensor);
    Onnx__TensorShapeProto *shape = alloc(g, sizeof *shape);
    Onnx__TensorShapeProto__Dimension **dims = alloc(g, 4 * sizeof *dims);
    for (int d = 0; d < 4 && dims; d++)
        dims[d] = alloc(g, sizeof *dims[d]);
    char *copy = str(g, name), *batch = str(g, "N");
    if (g->failed)
        return NULL;
    const int64_t size[4] = {0, C, H, W};
    for (int d = 0; d < 4; d++) {
        onnx__tensor_shape_proto__dimension__init(dims[d]);
        if (d == 0) {
            dims[d]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            dims[d]->dim_param = batch;
        } else {
            dims[d]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dims[d]->dim_value = size[d];
        }
    }
    onnx__tensor_shape_proto__init(shape);
    shape->n_dim = 4, shape->dim = dims;
    onnx__type_proto__tensor__init(tensor);
    tensor->has_elem_type = 1, tensor->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tensor->shape = shape;
    onnx__type_proto__init(type);
    type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE, type->tensor_type = tensor;
    onnx__value_info_proto__init(vi);
    vi->name = copy, vi->type = type;
    return vi;
}

void ox_input(ox_graph *g, const char *name, int C, int H, int W)
{
    Onnx__ValueInfoProto *vi = value_info(g, name, C, H, W);
    Onnx__ValueInfoProto **arr = vi ? room(g, g->g.input, g->g.n_input, sizeof *arr) : NULL;
    if (arr) {
        g->g.input = arr;
        g->g.input[g->g.n_input++] = vi;
    }
}

void ox_output(ox_graph *g, const char *name, int C, int H, int W)
{
    Onnx__ValueInfoProto *vi = value_info(g, name, C, H, W);
    Onnx__ValueInfoProto **arr = vi ? room(g, g->g.output, g->g.n_output, sizeof *arr) : NULL;
    if (arr) {
        g->g.output = arr;
        g->g.output[g->g.n_output++] = vi;
    }
}

static Onnx__TensorProto *find_init(const ox_graph *g, const char *name)
{
    for (size_t i = 0; i < g->g.n_initializer; i++)
        if (strcmp(g->g.initializer[i]->name, name) == 0)
            return g->g.initializer[i];
    return NULL;
}

/* A new initializer of type dtype and dims over bytes (len of them, not
 * copied); returns its name. */
static const char *add_init(ox_graph *g, const char *name, int32_t dtype, int ndim,
                            const int64_t *dims, void *bytes, size_t len)
{
    Onnx__TensorProto *t = alloc(g, sizeof *t);
    int64_t *d = alloc(g, (size_t)ndim * sizeof *d);
    char *copy = str(g, name);
    Onnx__TensorProto **arr =
        g->failed ? NULL : room(g, g->g.initializer, g->g.n_initializer, sizeof *arr);
    if (!arr)
        return NULL;
    onnx__tensor_proto__init(t);
    t->name = copy;
    t->n_dims = (size_t)ndim, t->dims = memcpy(d, dims, (size_t)ndim * sizeof *d);
    t->has_data_type = 1, t->data_type = dtype;
    t->has_raw_data = 1, t->raw_data.len = len, t->raw_data.data = bytes;
    g->g.initializer = arr;
    g->g.initializer[g->g.n_initializer++] = t;
    return copy;
}

const char *ox_param(ox_graph *g, const ug_net *net, int p, int ndim, const int64_t *dims)
{
    if (g->failed)
        return NULL;
    const ug_param *pp = &net->params[p];
    char name[UG_NAME_MAX + 64];
    int n = snprintf(name, sizeof name, "%s", pp->name);
    size_t numel = 1;
    int same = ndim == pp->ndim;
    for (int d = 0; d < ndim; d++) {
        numel *= (size_t)dims[d];
        same &= d < pp->ndim && dims[d] == pp->shape[d];
    }
    for (int d = 0; d < ndim && !same && n < (int)sizeof name; d++)
        n += snprintf(name + n, sizeof name - (size_t)n, "%s%lld", d ? "x" : ".",
                      (long long)dims[d]);
    if (numel != pp->numel) {
        g->failed = 1;
        ug_fail(g->err, "internal: parameter %s of %zu values viewed as %zu", pp->name,
                pp->numel, numel);
        return NULL;
    }
    const Onnx__TensorProto *t = find_init(g, name);
    if (t)
        return t->name;
    return add_init(g, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, ndim, dims,
                    ug_param_data(net, p), numel * sizeof(float));
}

/* A small 1-D or 0-D (n < 0) constant: a copy of its bytes. */
static const char *constant(ox_graph *g, const char *name, int32_t dtype, int n,
                            const void *v, size_t elem)
{
    if (g->failed)
        return NULL;
    const Onnx__TensorProto *t = find_init(g, name);
    if (t)
        return t->name;
    size_t count = n < 0 ? 1 : (size_t)n;
    void *bytes = alloc(g, count * elem);
    const int64_t dims[1] = {n};
    return bytes ? add_init(g, name, dtype, n < 0 ? 0 : 1, dims,
                            memcpy(bytes, v, count * elem), count * elem)
                 : NULL;
}

const char *ox_ints(ox_graph *g, const char *name, int n, const int64_t *v)
{
    return constant(g, name, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, n, v, sizeof *v);
}

const char *ox_floats(ox_graph *g, const char *name, int n, const float *v)
{
    return constant(g, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, n, v, sizeof *v);
}

const char *ox_fill(ox_graph *g, const char *name, int n, float v)
{
    const Onnx__TensorProto *t = g->failed ? NULL : find_init(g, name);
    if (t)
        return t->name;
    float *vals = alloc(g, (size_t)n * sizeof *vals);
    for (int i = 0; vals && i < n; i++)
        vals[i] = v;
    const int64_t dims[1] = {n};
    return vals ? add_init(g, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, dims, vals,
                           (size_t)n * sizeof *vals)
                : NULL;
}

const char *ox_scalar(ox_graph *g, float v)
{
    char name[48];
    snprintf(name, sizeof name, "scalar.%.9g", (double)v);
    return constant(g, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, -1, &v, sizeof v);
}
