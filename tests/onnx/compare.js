// The round trip of the ONNX export (tests/test_onnx.c): runs an exported
// generator with ONNX Runtime on the inputs our C forward pass translated, and
// compares every output with ours, before the 8-bit rounding. Prints one line
// per output; exits 1 when one differs by more than the tolerance, or when the
// model's outputs are not exactly the ones expected.
//
//   node compare.js MODEL.onnx INPUT.f32 N S TOL NAME=EXPECTED.f32 ...
//
// The .f32 files hold little-endian float32 values; INPUT is N x 3 x S x S.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function floats(file) {
    const b = fs.readFileSync(file);
    return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
}

async function main() {
    const [model, input, n, s, tol, ...expect] = process.argv.slice(2);
    const N = Number(n), S = Number(s), limit = Number(tol);
    const session = await ort.InferenceSession.create(model, {
        executionProviders: ['cpu'],
        intraOpNumThreads: 2,
        interOpNumThreads: 1,
    });
    const want = new Map(expect.map((e) => e.split('=')));
    const got = [...session.outputNames].sort().join(','), names = [...want.keys()].sort().join(',');
    if (session.inputNames.join(',') !== 'image' || got !== names)
        throw new Error(`${model}: inputs ${session.inputNames} and outputs ${got}; expected ` +
                        `image and ${names}`);
    const x = new ort.Tensor('float32', floats(input), [N, 3, S, S]);
    const out = await session.run({image: x});
    let ok = true;
    for (const [name, file] of want) {
        const ref = floats(file), y = out[name].data;
        if (y.length !== ref.length)
            throw new Error(`${model}: ${name} has ${y.length} values, ours ${ref.length}`);
        let worst = 0;
        for (let i = 0; i < y.length; i++) {
            const d = Math.abs(y[i] - ref[i]);
            worst = d > worst || Number.isNaN(d) ? d : worst;
        }
        const pass = worst <= limit;
        ok = ok && pass;
        console.log(`${model}: ${name} [${out[name].dims}] max_abs_diff=${worst.toExponential(3)} ` +
                    `(tolerance ${limit}) ${pass ? 'ok' : 'FAIL'}`);
    }
    process.exit(ok ? 0 : 1);
}

main().catch((e) => {
    console.error(`compare.js: ${e.message}`);
    process.exit(1);
});
