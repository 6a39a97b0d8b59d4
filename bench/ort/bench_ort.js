// ONNX Runtime side of the benchmark (bench/run.sh): times one generator exported by
// bench/export_onnx.py, batch 1, on the CPU with 2 intra-op threads, and prints one line of
// key=value like bench.c: median and minimum time of the timed repetitions and the process's
// peak resident set.
//
//   node bench_ort.js MODEL.onnx --img S --reps R --warmup W
'use strict';
const ort = require('onnxruntime-node');

function arg(name, dflt) {
    const i = process.argv.indexOf('--' + name);
    return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

async function main() {
    const file = process.argv[2];
    const img = arg('img', 256), reps = arg('reps', 5), warmup = arg('warmup', 1);
    const session = await ort.InferenceSession.create(file, {
        executionProviders: ['cpu'],
        intraOpNumThreads: 2,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
    });
    // The same kind of input as bench.c: uniform in [-1, 1].
    const data = new Float32Array(3 * img * img);
    for (let i = 0; i < data.length; i++)
        data[i] = 2 * Math.random() - 1;
    const feeds = {x: new ort.Tensor('float32', data, [1, 3, img, img])};
    const times = [];
    for (let r = 0; r < warmup + reps; r++) {
        const t0 = process.hrtime.bigint();
        await session.run(feeds);
        const dt = Number(process.hrtime.bigint() - t0) / 1e9;
        if (r >= warmup)
            times.push(dt);
    }
    times.sort((a, b) => a - b);
    const n = times.length;
    const median = n % 2 ? times[(n - 1) / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
    const rss = process.resourceUsage().maxRSS / 1024; // kB to MB
    console.log(`impl=onnxruntime-${ort.env.versions.common} img=${img} reps=${reps} ` +
                `median_s=${median.toFixed(4)} min_s=${times[0].toFixed(4)} maxrss_mb=${rss.toFixed(1)}`);
}

main().catch((e) => {
    console.error(`bench_ort.js: ${e.message}`);
    process.exit(1);
});
