"""The ONNX export through Debian's python3-onnx (tests/test_onnx.c): each
model passes onnx.checker with full_check (the checks plus strict shape
inference), uses the standard domain at opset 17 or lower, and has the
input and outputs that README's "Export to ONNX" promises.

  /usr/bin/python3 check_onnx.py S MODEL.onnx:cam|nocam ...

S is the models' image side; "cam" says the model must have a heatmap.
Prints one line per model; exits 1 at the first that fails.
"""
import sys

try:
    import onnx
except ImportError as e:
    sys.exit(f"check_onnx.py: needs Debian's python3-onnx (scripts/deps.sh); "
             f"{sys.executable} cannot import onnx: {e}")


def dims(value):
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


def check(path, size, cam):
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    opsets = {o.domain: o.version for o in m.opset_import}
    assert list(opsets) == [''] and opsets[''] <= 17, f"opsets {opsets}"
    assert all(n.domain == '' for n in m.graph.node), "a node outside the standard domain"
    g = m.graph
    want_in = {'image': ['N', 3, size, size]}
    want_out = {'translated': ['N', 3, size, size]}
    if cam:
        want_out['heatmap'] = ['N', 1, size // 4, size // 4]
    got_in = {v.name: dims(v) for v in g.input}
    got_out = {v.name: dims(v) for v in g.output}
    assert got_in == want_in, f"inputs {got_in}, expected {want_in}"
    assert got_out == want_out, f"outputs {got_out}, expected {want_out}"
    elem = {v.type.tensor_type.elem_type for v in list(g.input) + list(g.output)}
    assert elem == {onnx.TensorProto.FLOAT}, f"element types {elem}"
    ops = sorted({n.op_type for n in g.node})
    print(f"{path}: ok (onnx {onnx.__version__}, opset {opsets['']}, {len(g.node)} nodes: "
          f"{' '.join(ops)})")


def main():
    size = int(sys.argv[1])
    for arg in sys.argv[2:]:
        path, kind = arg.rsplit(':', 1)
        try:
            check(path, size, kind == 'cam')
        except (AssertionError, onnx.checker.ValidationError,
                onnx.shape_inference.InferenceError) as e:
            sys.exit(f"{path}: {e}")


if __name__ == '__main__':
    main()
