#!/usr/bin/python3
"""Whether the full model at 256 (ch 64) trains in 8 GB (README, "Training", Memory).

Runs `ugatit train` on the sample data as a user would: one step and a checkpoint with Adam's
moments where the program puts them by default (--moments_dir auto: files when they would
take more than half the memory available), then a resume of that checkpoint for one more step
and another checkpoint; the same with the moments forced into memory (--moments_dir memory)
and into files of a folder (--moments_dir DIR). Each run is a fresh process, once without a
limit and once inside a memory cgroup of --limit-gb (page cache counted) where the machine
lets us make one. Prints each run's exit, where its moments were, peak resident set
(ru_maxrss), the cgroup's peak and the wall time; then PyTorch's reference step
(bench/bench_torch.py, the full model's training step) in the same cgroup (or, without one,
under the limit on its address space), unless --no-torch.

    bench/train_8gb.sh [--limit-gb G] [--no-torch]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

from cgroup import Cgroup

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, '..', 'shared', 'data', 'selfie2anime-sample')


def run(cmd, cg):
    """Runs cmd, inside the cgroup cg made fresh for it when cg is given; its exit, peak RSS in
    MB, the cgroup's peak in MB, the wall time in s and its output."""
    if cg and not cg.make():
        return 'failed: could not make its memory cgroup', 0.0, '-', 0.0, ''
    try:
        t0 = time.time()
        p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             preexec_fn=cg.enter if cg else None)
        out = p.stdout.read().decode(errors='replace')
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        wall = time.time() - t0
        if p.returncode == -9:
            exit_ = 'killed (out of memory)'
        elif p.returncode != 0:
            last = out.strip().splitlines()[-1][:80] if out.strip() else ''
            exit_ = 'failed (%d): %s' % (p.returncode, last)
        else:
            exit_ = 'ok'
        return exit_, ru.ru_maxrss / 1024.0, cg.peak_mb() if cg else '-', wall, out
    finally:
        if cg:
            cg.remove()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default='build-bench')
    ap.add_argument('--limit-gb', type=float, default=8.0)
    ap.add_argument('--no-torch', action='store_true')
    a = ap.parse_args()
    limit = int(a.limit_gb * 1e9)
    ugatit = os.path.join(ROOT, a.build, 'ugatit')
    cg = Cgroup(limit)
    can_limit = cg.make()
    if can_limit:
        cg.remove()
    else:
        print('bench: cannot make a memory cgroup here (read-only /sys/fs/cgroup or no memory '
              'controller): the runs go without a limit only', file=sys.stderr)
    with open('/proc/cpuinfo') as f:
        cpu = next((l.split(':', 1)[1].strip() for l in f if l.startswith('model name')), '?')
    print('CPU: %s, %d cores; limit %.1f GB (%s)' % (cpu, os.cpu_count(), a.limit_gb,
          'cgroup' if can_limit else 'none available'), flush=True)
    tmp = tempfile.mkdtemp(prefix='train8gb-', dir=os.path.join(ROOT, a.build))
    rows = []
    try:
        for limited in ([False, True] if can_limit else [False]):
            results = os.path.join(tmp, 'results-%d' % limited)
            moments = os.path.join(tmp, 'moments')
            os.makedirs(moments, exist_ok=True)
            base = [ugatit, 'train', '--dataset', DATA, '--light', 'false', '--save_freq', '1',
                    '--print_freq', '100', '--result_dir', results]
            step = base + ['--iteration', '1']
            resume = base + ['--iteration', '2', '--resume', 'true']
            runs = [('1 step + save, default', step, True),
                    ('resume + 1 step + save, default', resume, False),
                    ('1 step + save, --moments_dir memory', step + ['--moments_dir', 'memory'],
                     True),
                    ('1 step + save, --moments_dir DIR', step + ['--moments_dir', moments], True),
                    ('resume + 1 step + save, --moments_dir DIR',
                     resume + ['--moments_dir', moments], False)]
            for label, cmd, new in runs:
                if new:  # a run from the start, not the previous one's checkpoint
                    shutil.rmtree(results, ignore_errors=True)
                exit_, rss, cpeak, wall, out = run(cmd, cg if limited else None)
                where = 'files' if 'DIR' in label or 'go to files' in out else 'memory'
                rows.append((label, '%.1f GB cgroup' % a.limit_gb if limited else 'none', exit_,
                             where, rss, cpeak, wall))
                print('  %-42s %-7s %-6s %s' % (label, rows[-1][1], where, exit_), flush=True)
        if not a.no_torch:
            # In the same cgroup as ours where there is one; else under the limit on its
            # address space (which also counts what it maps and never touches).
            cmd = ['/usr/bin/python3', 'bench/bench_torch.py', 'train', '--img', '256', '--ch',
                   '64', '--light', '0', '--reps', '1', '--warmup', '0']
            if not can_limit:
                cmd += ['--mem-limit-gb', str(a.limit_gb * 1e9 / (1 << 30))]
            exit_, rss, cpeak, wall, out = run(cmd, cg if can_limit else None)
            line = next((l for l in out.splitlines() if l.startswith('impl=')), '')
            if 'status=oom' in line:
                exit_ = 'out of memory'
            rows.append(('PyTorch, 1 training step', '%.1f GB %s' % (
                a.limit_gb, 'cgroup' if can_limit else 'address space'), exit_, 'memory', rss,
                cpeak, wall))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print('\n| run | limit | exit | moments | peak RSS MB | cgroup peak MB | wall s |')
    print('|---|---|---|---|---|---|---|')
    for label, lim, exit_, where, rss, cpeak, wall in rows:
        print('| %s | %s | %s | %s | %.0f | %s | %.1f |' % (label, lim, exit_, where, rss, cpeak,
                                                           wall))


if __name__ == '__main__':
    main()
