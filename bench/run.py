"""Driver of bench/run.sh: runs the rows, ours (build/bench/ugatit_bench) and PyTorch's
(bench/bench_torch.py) alternately, one process per run, and prints a Markdown table.

Each run reports its median over its repetitions (after a warm-up); a row's time is the median
of its runs' medians, and its peak RSS the largest of its runs'. "best-run ratio" divides the
fastest repetitions (robust when other work shares the machine). GFLOP/s is our convolution and
linear FLOPs per repetition (counted by the kernels, the same work PyTorch does less its extra
backward through the D phase's generators) over our median time; "% of peak" compares that
with the FP32 FMA peak that bench/fma_peak measures first (AVX-512 or AVX2, whichever the CPU
has). The table names the CPU (its model name and that ISA) on every row.

The contention row trains as train-128 does with one busy process (a Python loop) beside every
run: ours with the program's default threads (OMP_NUM_THREADS unset: as many as the cores left
free), ours with --threads 1 (the threads actually free on two cores), and PyTorch with its two
threads. Its table gives default / free and ours / PyTorch.

The folder row translates a folder of 8 images at 256 (the 4 selfie2anime samples, twice) as a
user would: ours as one whole `ugatit translate` process (start-up, model load, primitive
creation, decoding and encoding included), against PyTorch's generator loop alone
(bench/bench_folder_torch.py: the forward passes only, on the same weights, which it saves
first as the .pt that ours loads).

Every run also records the host's steal time over it (/proc/stat: the time a virtual
machine's CPUs were ready but the hypervisor ran something else), as a share of all CPU time;
each table gives the largest share among its row's runs, so a row measured while the host's
neighbours took CPU time says so (a few percent can move times by much more: a parallel region
waits for its slowest thread).

Inference rows also time ONNX Runtime (bench/ort, npm onnxruntime-node) on the same generator
exported from the PyTorch reference (bench/export_onnx.py), when run.sh could install it.

--cpu avx2 runs every process (ours, PyTorch, ONNX Runtime, fma_peak) under
bench/libcpuid_avx2.so (bench/cpuid_avx2.c; LD_AUDIT and LD_PRELOAD), which answers CPUID as a CPU without AVX-512
would: all three choose their AVX2 kernels, as on an AVX2 machine, where ONEDNN_MAX_CPU_ISA
caps only oneDNN and ours and ONNX Runtime's MLAS takes no cap at all. Where the CPU or kernel
cannot make CPUID fault, it falls back to the caps there are: ONEDNN_MAX_CPU_ISA=AVX2 (ours,
our kernels follow it, and PyTorch's oneDNN) and ATEN_CPU_CAPABILITY=avx2 (PyTorch's own
kernels); and ONNX Runtime, which takes no cap, runs with the CPUID instructions of its
libonnxruntime.so patched into UD2 as it loads and answered without AVX-512 by the same library
(bench/cpuid_patch.py, checked on fma_peak first); its cells say "CPUID patched".
"""
import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from cgroup import Cgroup, available_bytes
from cpuid_patch import patch_env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name: (mode, img, ch, light, reps, PyTorch's memory cap (memory_cap: a cgroup, else this many
# GiB of address space) or 0, ours in bf16, family). A bf16 row compares our bf16 inference with
# PyTorch's fp32. The cyclegan rows are the official default architecture at 256 (9 blocks, ngf
# 64) and its training step; the unit rows UNIT's official configuration at 256 (tools/unit_ref.py
# on PyTorch's side), the munit rows MUNIT's (tools/munit_ref.py; a translation with a drawn style
# code, the official default recon_x_cyc_w 0); the drit rows DRIT's at its 216 crops
# (tools/drit_ref.py), a training step being a full iteration of batch 2. train-full-files is
# train-full with our Adam moments in files (--moments_dir, a temporary folder beside the build:
# the memory it saves).
ROWS = {
    'infer-light': ('infer', 256, 64, 1, 5, 0, 0, 'ugatit'),
    'infer-light-bf16': ('infer', 256, 64, 1, 5, 0, 1, 'ugatit'),
    'infer-full': ('infer', 256, 64, 0, 5, 0, 0, 'ugatit'),
    'train-128': ('train', 128, 32, 1, 3, 0, 0, 'ugatit'),
    'train-256': ('train', 256, 64, 1, 2, 0, 0, 'ugatit'),
    'train-full': ('train', 256, 64, 0, 1, 21, 0, 'ugatit'),
    'train-full-files': ('train', 256, 64, 0, 1, 21, 0, 'ugatit'),
    'cyclegan-infer': ('infer', 256, 64, 0, 5, 0, 0, 'cyclegan'),
    'cyclegan-train': ('train', 256, 64, 0, 2, 0, 0, 'cyclegan'),
    'unit-infer': ('infer', 256, 64, 0, 3, 0, 0, 'unit'),
    'unit-train': ('train', 256, 64, 0, 1, 0, 0, 'unit'),
    'munit-infer': ('infer', 256, 64, 0, 3, 0, 0, 'munit'),
    'munit-train': ('train', 256, 64, 0, 1, 0, 0, 'munit'),
    'drit-infer': ('infer', 216, 64, 0, 3, 0, 0, 'drit'),
    'drit-train': ('train', 216, 64, 0, 1, 0, 0, 'drit'),
}
CONTENTION = ('train', 128, 32, 1, 3)
FOLDER = (256, 64, 1, 8)  # img, ch, light, images
SAMPLES = os.path.join(ROOT, '..', 'shared', 'data', 'selfie2anime-sample')


def parse(line):
    return dict(kv.split('=', 1) for kv in line.split() if '=' in kv)


def cpu_times():
    """The machine's CPU time so far from /proc/stat: (steal, total) in ticks, or None."""
    try:
        with open('/proc/stat') as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal; guest time is inside user already.
    return (v[7], sum(v[:8])) if len(v) >= 8 else None


def steal_share(t0, t1):
    """The steal share of the CPU time between two cpu_times() readings, or None."""
    if not t0 or not t1 or t1[1] <= t0[1]:
        return None
    return (t1[0] - t0[0]) / (t1[1] - t0[1])


def with_steal(res, t0):
    """res (a successful run's result) with the steal share since reading t0 added."""
    st = steal_share(t0, cpu_times())
    if st is not None:
        res['steal'] = '%.4f' % st
    return res


def run(cmd, env=None, cg=None):
    """Runs cmd (inside the memory cgroup cg when given) and parses its impl= line."""
    t0 = cpu_times()
    p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       env=env, preexec_fn=cg.enter if cg else None)
    lines = [l for l in p.stdout.splitlines() if l.startswith('impl=')]
    if cg and p.returncode == -9:
        return {'status': 'killed at its %.1f GB cgroup' % (cg.limit / 1e9)}, p.stderr
    if p.returncode != 0 or not lines:
        return {'status': 'failed (rc %d): %s' % (p.returncode, p.stderr.strip()[-200:])}, p.stderr
    return with_steal(parse(lines[-1]), t0), p.stderr


def memory_cap():
    """A fresh memory cgroup for a run that may need most of the machine (PyTorch's full-model
    training step): what the machine has available less 512 MiB, so the rest of it survives.
    None where no cgroup can be made; the caller then caps the run's address space instead,
    which also counts what PyTorch maps and never touches, so stops it sooner."""
    avail = available_bytes()
    cg = Cgroup(avail - (512 << 20)) if avail else None
    return cg if cg and cg.make() else None


def steal_pct(*runs):
    """The largest steal share among runs (lists of run results), as a table cell."""
    v = [float(r['steal']) for rs in runs for r in rs if 'steal' in r]
    return '%.1f%%' % (100 * max(v)) if v else '-'


def cpu_name():
    """The CPU's model name as /proc/cpuinfo gives it."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return 'unknown CPU'


def hide_avx512(build):
    """--cpu avx2: from here on every process started sees a CPU without AVX-512 ('hidden'), or
    where CPUID cannot fault, ours and PyTorch run capped to AVX2 ('capped')."""
    lib = os.path.join(ROOT, build, 'bench', 'libcpuid_avx2.so')
    p = subprocess.run([os.path.join(ROOT, build, 'bench', 'fma_peak'), '1000'],
                       env=dict(os.environ, LD_AUDIT=lib, LD_PRELOAD=lib),
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if p.returncode == 0:
        os.environ['LD_AUDIT'] = os.environ['LD_PRELOAD'] = lib
        return 'hidden'
    if 'cannot make CPUID fault' not in p.stderr:
        sys.exit('bench: --cpu avx2: %s' % (p.stderr.strip() or 'fma_peak failed under ' + lib))
    os.environ['ONEDNN_MAX_CPU_ISA'] = 'AVX2'  # oneDNN: ours (our kernels follow it), PyTorch's
    os.environ['ATEN_CPU_CAPABILITY'] = 'avx2'  # PyTorch's own kernels
    return 'capped'


def ort_avx2_env(build):
    """--cpu avx2 where CPUID cannot fault: the environment in which ONNX Runtime (which takes
    no cap) sees a CPU without AVX-512, its CPUID instructions patched as it loads
    (bench/cpuid_patch.py); checked on fma_peak first, which must then find AVX2 only."""
    lib = os.path.join(ROOT, build, 'bench', 'libcpuid_avx2.so')
    fma = os.path.join(ROOT, build, 'bench', 'fma_peak')
    p = subprocess.run([fma, '1000'], env=patch_env(lib, [fma]), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode != 0 or parse(p.stdout.splitlines()[0] if p.stdout else '').get('isa') != \
            'avx2' or len(p.stdout.splitlines()) != 1:
        sys.exit('bench: --cpu avx2: patching CPUID did not hide AVX-512 from fma_peak: %s'
                 % (p.stderr.strip() or p.stdout.strip()))
    ort = glob.glob(os.path.join(ROOT, 'bench', 'ort', 'node_modules', 'onnxruntime-node', 'bin',
                                 '*', 'linux', 'x64', 'libonnxruntime.so*'))
    if not ort:
        sys.exit('bench: --cpu avx2: no libonnxruntime.so under bench/ort/node_modules')
    return patch_env(lib, ort)


def cpu_flags():
    """The CPU's feature flags as /proc/cpuinfo gives them."""
    try:
        with open('/proc/cpuinfo') as f:
            return next((l.split(':', 1)[1].split() for l in f if l.startswith('flags')), [])
    except OSError:
        return []


def cpu_isa(fma_isa):
    """The vector ISA the FMA peak was measured with, and whether the CPU has AVX512-BF16
    (which --precision bf16 needs)."""
    flags = cpu_flags()
    name = {'avx512': 'AVX-512', 'avx2': 'AVX2'}.get(fma_isa, fma_isa or 'unknown ISA')
    if fma_isa == 'avx512':
        name += ' with BF16' if 'avx512_bf16' in flags else ' without BF16'
    return name


def contention(a, rounds):
    """The contention row's runs: (ours with default threads, ours with one, PyTorch's)."""
    mode, img, ch, light, reps = CONTENTION
    common = [mode, '--img', str(img), '--ch', str(ch), '--light', str(light), '--reps', str(reps),
              '--warmup', '1', '--family', 'ugatit']
    ours = [os.path.join(a.build, 'bench', 'ugatit_bench')] + common
    free_env = {k: v for k, v in os.environ.items() if k != 'OMP_NUM_THREADS'}
    torch = ['/usr/bin/python3', 'bench/bench_torch.py'] + common
    auto, one, theirs = [], [], []
    plan = [('ours default threads', auto, ours, free_env),
            ('ours --threads 1', one, ours + ['--threads', '1'], None)]
    if not a.no_torch:
        plan.append(('torch', theirs, torch, None))
    busy = subprocess.Popen(['/usr/bin/python3', '-c', 'while True: pass'])
    try:
        for r in range(rounds):
            for label, runs, cmd, env in plan:
                res, _ = run(cmd, env)
                runs.append(res)
                print('  contention %s: %s'
                      % (label, ' '.join('%s=%s' % kv for kv in res.items())), flush=True)
    finally:
        busy.kill()
        busy.wait()
    return auto, one, theirs


def folder(a, rounds):
    """The folder row's runs: (ours, the whole process; PyTorch's generator loop alone)."""
    img, ch, light, n = FOLDER
    images = sorted(glob.glob(os.path.join(SAMPLES, '*', '*.jpg')) +
                    glob.glob(os.path.join(SAMPLES, '*', '*.png')))
    if not images:
        return [{'status': 'no sample images in %s' % SAMPLES}], []
    tmp = tempfile.mkdtemp(prefix='ugatit_bench_folder_')
    inp, out, gen = (os.path.join(tmp, p) for p in ('in', 'out', 'gen.pt'))
    os.makedirs(inp)
    for i in range(n):
        src = images[i % len(images)]
        shutil.copy(src, os.path.join(inp, '%02d%s' % (i, os.path.splitext(src)[1])))
    ours, theirs = [], []
    try:
        for r in range(rounds):
            res, _ = run(['/usr/bin/python3', 'bench/bench_folder_torch.py', '--input', inp,
                          '--save', gen, '--img', str(img), '--ch', str(ch), '--light', str(light)])
            theirs.append(res)
            print('  folder torch: %s' % ' '.join('%s=%s' % kv for kv in res.items()), flush=True)
            if 'median_s' not in res:
                break
            shutil.rmtree(out, ignore_errors=True)
            c0, t0 = cpu_times(), time.perf_counter()
            p = subprocess.run([os.path.join(a.build, 'ugatit'), 'translate', '--model', gen,
                                '--img_size', str(img), '--input', inp, '--output', out],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            dt = time.perf_counter() - t0
            res = (with_steal({'median_s': '%.4f' % dt, 'min_s': '%.4f' % dt}, c0)
                   if p.returncode == 0 else
                   {'status': 'failed (rc %d): %s' % (p.returncode, p.stderr.strip()[-200:])})
            ours.append(res)
            print('  folder ours:  %s' % ' '.join('%s=%s' % kv for kv in res.items()), flush=True)
    finally:
        shutil.rmtree(tmp)
    return ours, theirs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', default='build-bench')
    ap.add_argument('--rows', default=','.join(list(ROWS) + ['contention', 'folder']))
    ap.add_argument('--rounds', type=int, default=2)
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--profile', action='store_true')
    ap.add_argument('--no-torch', action='store_true')
    ap.add_argument('--no-ort', action='store_true')
    ap.add_argument('--cpu', choices=['native', 'avx2'], default='native')
    a = ap.parse_args()
    avx2 = hide_avx512(a.build) if a.cpu == 'avx2' else None
    ort_js = os.path.join(ROOT, 'bench', 'ort', 'bench_ort.js')
    have_ort = not a.no_ort and os.path.isdir(os.path.join(ROOT, 'bench', 'ort', 'node_modules',
                                                           'onnxruntime-node'))
    rounds = 1 if a.quick else a.rounds

    # One line per ISA the CPU has, widest first: the first is the peak of the rows.
    fma_lines = subprocess.run([os.path.join(ROOT, a.build, 'bench', 'fma_peak')] +
                               (['--isa', 'avx2'] if avx2 == 'capped' else []),
                               stdout=subprocess.PIPE, text=True).stdout.splitlines()
    fma = fma_lines[0] if fma_lines else ''
    for line in fma_lines[1:]:
        print('FP32 FMA peak (bench/fma_peak, %s, 2 threads): %.0f GFLOP/s'
              % (parse(line).get('isa', '?'), float(parse(line).get('gflops', 'nan'))), flush=True)
    peak_gflops = float(parse(fma).get('gflops', 'nan'))
    if avx2 and parse(fma).get('isa') != 'avx2':
        sys.exit('bench: --cpu avx2, but fma_peak still ran %s' % parse(fma).get('isa', 'nothing'))
    cpu = '%s, %s' % (cpu_name(), cpu_isa(parse(fma).get('isa')))
    ort_note, ort_env = '', None
    if avx2 == 'hidden':
        cpu += ' (AVX-512 hidden from every process: --cpu avx2)'
    elif avx2 == 'capped':
        cpu += ' (capped: --cpu avx2 without CPUID faulting)'
        if have_ort:
            ort_env = ort_avx2_env(a.build)
            ort_note = ' (CPUID patched)'
        blas = os.environ.get('OPENBLAS_CORETYPE')
        print('--cpu avx2: this CPU or kernel cannot make CPUID fault, so AVX-512 is capped, not '
              'hidden: ours and PyTorch\'s oneDNN by ONEDNN_MAX_CPU_ISA=AVX2, PyTorch\'s own '
              'kernels by ATEN_CPU_CAPABILITY=avx2, PyTorch\'s OpenBLAS %s; ONNX Runtime, which '
              'takes no cap, runs with the CPUID instructions of libonnxruntime.so patched to '
              'answer without AVX-512 (bench/cpuid_patch.py; its cells say so)'
              % ('by OPENBLAS_CORETYPE=' + blas if blas else 'not at all (it reads CPUID)'),
              flush=True)
    print('CPU: %s' % cpu, flush=True)
    print('FP32 FMA peak (bench/fma_peak, %s, 2 threads): %.0f GFLOP/s'
          % (parse(fma).get('isa', '?'), peak_gflops), flush=True)

    results = []
    rows = a.rows.split(',')
    busy_runs = contention(a, rounds) if 'contention' in rows else None
    folder_runs = folder(a, rounds) if 'folder' in rows else None
    for name in rows:
        if name in ('contention', 'folder'):
            continue
        mode, img, ch, light, reps, memlim, bf16, family = ROWS[name]
        if a.quick:
            reps = max(1, reps // 2)
        common = [mode, '--img', str(img), '--ch', str(ch), '--light', str(light),
                  '--reps', str(reps), '--warmup', '1', '--family', family]
        ours, theirs, ort = [], [], []
        onnx = None
        # bench/export_onnx.py exports the U-GAT-IT reference only.
        if mode == 'infer' and have_ort and not bf16 and family == 'ugatit':
            onnx = os.path.join(ROOT, a.build, 'gen_%d_%d_%d.onnx' % (img, ch, light))
            if not os.path.exists(onnx):
                subprocess.run(['/usr/bin/python3', 'bench/export_onnx.py', '--img', str(img),
                                '--ch', str(ch), '--light', str(light), '--out', onnx],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for r in range(rounds):
            cmd = [os.path.join(a.build, 'bench', 'ugatit_bench')] + common + ['--bf16', str(bf16)]
            if a.profile and r == 0:
                cmd.append('--profile')
            if name == 'train-full-files':
                moments = tempfile.mkdtemp(prefix='moments-', dir=os.path.join(ROOT, a.build))
                cmd += ['--moments_dir', moments]
            res, err = run(cmd)
            if name == 'train-full-files':
                shutil.rmtree(moments)
            if a.profile and r == 0:
                sys.stderr.write('--- profile of %s ---\n%s' % (name, err))
            ours.append(res)
            print('  %s ours:  %s' % (name, ' '.join('%s=%s' % kv for kv in res.items())), flush=True)
            if a.no_torch or name == 'train-full-files':  # PyTorch's is train-full's
                continue
            tcmd = ['/usr/bin/python3', 'bench/bench_torch.py'] + common
            cg = memory_cap() if memlim else None
            if memlim and not cg:
                tcmd += ['--mem-limit-gb', str(memlim)]
            res, _ = run(tcmd, cg=cg)
            if cg:
                cg.remove()
                res['cap'] = 'cgroup_%.1f_GB' % (cg.limit / 1e9)
            elif memlim:
                res['cap'] = 'RLIMIT_AS_%d_GiB' % memlim
            theirs.append(res)
            print('  %s torch: %s' % (name, ' '.join('%s=%s' % kv for kv in res.items())), flush=True)
            if onnx:
                res, _ = run(['node', ort_js, onnx, '--img', str(img), '--reps', str(reps),
                              '--warmup', '1'], env=ort_env)
                ort.append(res)
                print('  %s ort:   %s' % (name, ' '.join('%s=%s' % kv for kv in res.items())),
                      flush=True)
        results.append((name, mode, img, ch, light, bf16, family, ours, theirs, ort))

    def med(rs):
        v = [float(r['median_s']) for r in rs if 'median_s' in r]
        return statistics.median(v) if v else None

    def best(rs):
        v = [float(r['min_s']) for r in rs if 'min_s' in r]
        return min(v) if v else None

    def rss(rs):
        v = [float(r['maxrss_mb']) for r in rs if 'maxrss_mb' in r]
        return max(v) if v else None

    print()
    print('Measured on: %s, FP32 FMA peak %.0f GFLOP/s' % (cpu, peak_gflops))
    if results:
        print()
        print('| row | CPU | ours s | PyTorch s | time ratio | best-run ratio | ours peak RSS MB | '
              'PyTorch peak RSS MB | RSS ratio | ours GFLOP/s | % of FMA peak | ONNX Runtime s | '
              'ours / ONNX Runtime | host steal |')
        print('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|')
    for name, mode, img, ch, light, bf16, family, ours, theirs, ort in results:
        to, tt = med(ours), med(theirs)
        ro, rt = rss(ours), rss(theirs)
        gf = float(ours[0].get('gflop', 'nan')) if ours and 'gflop' in ours[0] else float('nan')
        label = '%s %d ch%d %s%s' % (mode, img, ch, 'light' if light else 'full',
                                     ' bf16' if bf16 else '')
        if family != 'ugatit':
            label = '%s %s %d %s%d' % (family, mode, img, 'ngf' if family == 'cyclegan' else 'dim',
                                       ch)
        if name == 'train-full-files':
            label += ', Adam moments in files'
        tstat = next((r['status'] for r in theirs if 'status' in r), None)
        bo, bt = best(ours), best(theirs)
        tx = med(ort)
        print('| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |' % (
            label, cpu,
            '%.3f' % to if to else 'failed',
            '%.3f' % tt if tt else (tstat or 'not run'),
            '%.2f' % (to / tt) if to and tt else '-',
            '%.2f' % (bo / bt) if bo and bt else '-',
            '%.0f' % ro if ro else '-',
            '%.0f' % rt if rt else '-',
            '%.2f' % (ro / rt) if ro and rt else '-',
            '%.0f' % (gf / to) if to else '-',
            '%.0f%%' % (100 * gf / to / peak_gflops) if to else '-',
            '%.3f%s' % (tx, ort_note) if tx else ('failed' if ort else '-'),
            '%.2f' % (to / tx) if to and tx else '-', steal_pct(ours, theirs, ort)))

    caps = sorted({'%s (%s)' % (r[0], t['cap'].replace('_', ' ')) for r in results for t in r[8]
                   if 'cap' in t})
    if caps:
        print('\nPyTorch ran under a memory cap in: %s' % ', '.join(caps))

    if busy_runs:
        auto, one, theirs = busy_runs
        ta, t1, tt = med(auto), med(one), med(theirs)
        used = sorted({r.get('threads', '?') for r in auto})
        print()
        print('With one busy process beside each run (train %d ch%d light):' % CONTENTION[1:3])
        print()
        print('| row | CPU | ours, default threads s | threads used | ours, --threads 1 s | '
              'default / free | PyTorch s | ours / PyTorch | host steal |')
        print('|---|---|---|---|---|---|---|---|---|')
        print('| contention | %s | %s | %s | %s | %s | %s | %s | %s |' % (
            cpu, '%.3f' % ta if ta else 'failed', ','.join(used),
            '%.3f' % t1 if t1 else 'failed',
            '%.2f' % (ta / t1) if ta and t1 else '-', '%.3f' % tt if tt else 'not run',
            '%.2f' % (ta / tt) if ta and tt else '-', steal_pct(auto, one, theirs)))

    if folder_runs:
        ours, theirs = folder_runs
        to, tt = med(ours), med(theirs)
        status = next((r['status'] for r in ours + theirs if 'status' in r), None)
        print()
        print('A folder of %d images at %d (ch%d %s):' % (FOLDER[3], FOLDER[0], FOLDER[1],
                                                        'light' if FOLDER[2] else 'full'))
        print()
        print('| row | CPU | ours, whole process s | PyTorch, generator loop alone s | ratio | '
              'host steal |')
        print('|---|---|---|---|---|---|')
        print('| folder | %s | %s | %s | %s | %s |' % (
            cpu, '%.3f' % to if to else (status or 'failed'), '%.3f' % tt if tt else 'failed',
            '%.2f' % (to / tt) if to and tt else '-', steal_pct(ours, theirs)))


if __name__ == '__main__':
    main()
