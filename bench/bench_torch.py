"""PyTorch side of the benchmark (bench/run.sh): the same rows as bench/bench.c on
tools/ugatit_ref.py, the project's PyTorch reference of U-GAT-IT (same architecture, PyTorch's
default initialisation), or with --family drit on tools/drit_ref.py (DRIT's official
configuration at img, ch as the base channels; a full iteration of batch 2 per training step,
torch.randn draws), or with --family cyclegan on tools/cyclegan_ref.py (the official
default architecture at img: 9 blocks from 256 up, else 6; ch as ngf), or with --family unit
on tools/unit_ref.py (UNIT's official configuration at img, ch as dim; torch.randn noise as the
official code draws it; inference a.enc then b.dec), or with --family munit on
tools/munit_ref.py (MUNIT's official configuration; torch.randn style codes; inference
a.enc_content then b's decoder with a drawn code), with torch.set_num_threads(2).

  bench_torch.py infer|train --img S --ch C --light 0|1 [--reps R] [--warmup W]
                 [--mem-limit-gb G] [--family ugatit|cyclegan|unit|munit|drit]

Prints one line of key=value like bench.c: median and minimum time of the timed repetitions and
the process's peak resident set (ru_maxrss). --mem-limit-gb caps the address space
(RLIMIT_AS) so that a configuration too big for the machine fails with status=oom instead of
exhausting its memory. Run with /usr/bin/python3 (Debian's torch 1.13).
"""
import argparse
import os
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tools'))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=('infer', 'train'))
    ap.add_argument('--img', type=int, default=256)
    ap.add_argument('--ch', type=int, default=64)
    ap.add_argument('--light', type=int, default=1)
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--mem-limit-gb', type=float, default=0)
    ap.add_argument('--family', choices=('ugatit', 'cyclegan', 'unit', 'munit', 'drit'),
                    default='ugatit')
    a = ap.parse_args()
    head = 'impl=torch family=%s mode=%s img=%d ch=%d light=%d' % (a.family, a.mode, a.img, a.ch,
                                                                   a.light)
    if a.mem_limit_gb > 0:
        lim = int(a.mem_limit_gb * (1 << 30))
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))

    import torch
    import cyclegan_ref as C
    import ugatit_ref as R
    torch.set_num_threads(2)
    torch.manual_seed(1234)
    g = torch.Generator().manual_seed(42)
    x = torch.rand(1, 3, a.img, a.img, generator=g) * 2 - 1
    y = torch.rand(1, 3, a.img, a.img, generator=g) * 2 - 1
    times = []
    try:
        blocks = 9 if a.img >= 256 else 6
        if a.family == 'drit':
            import drit_ref as D
            model = D.DRIT(ch=a.ch, noise_seed=None)  # torch.randn, as the official code
            xb = torch.rand(2, 3, a.img, a.img, generator=g) * 2 - 1
            yb = torch.rand(2, 3, a.img, a.img, generator=g) * 2 - 1
            for n in model.nets().values():
                n.eval() if a.mode == 'infer' else n.train()
            z = torch.randn(1, D.NZ, generator=g)

            def once():
                if a.mode == 'train':
                    model.full_step(xb, yb)
                else:
                    with torch.no_grad():
                        model.translate(x, z)
        elif a.family == 'unit':
            import unit_ref as U
            model = U.UNIT(dim=a.ch, noise_seed=None)  # torch.randn, as the official code

            def once():
                if a.mode == 'train':
                    model.train_step(x, y)
                else:
                    with torch.no_grad():
                        model.translate(x)
        elif a.family == 'munit':
            import munit_ref as MU
            model = MU.MUNIT(dim=a.ch, noise_seed=None)  # torch.randn codes, as the official code
            style = torch.randn(1, 8, 1, 1, generator=g)

            def once():
                if a.mode == 'train':
                    model.train_step(x, y)
                else:
                    with torch.no_grad():
                        model.translate(x, style)
        elif a.mode == 'infer' and a.family == 'cyclegan':
            net = C.ResnetGenerator(a.ch, blocks).eval()

            def once():
                with torch.no_grad():
                    net(x)
        elif a.mode == 'train' and a.family == 'cyclegan':
            model = C.CycleGAN(ngf=a.ch, n_blocks=blocks)

            def once():
                model.train_step(x, y)
        elif a.mode == 'infer':
            net = R.ResnetGenerator(a.ch, 4, a.img, bool(a.light)).eval()

            def once():
                with torch.no_grad():
                    net(x)
        else:
            model = R.UGATIT(ch=a.ch, n_res=4, img_size=a.img, light=bool(a.light))

            def once():
                model.train_step(x, y)
        for r in range(a.warmup + a.reps):
            t0 = time.perf_counter()
            once()
            dt = time.perf_counter() - t0
            if r >= a.warmup:
                times.append(dt)
    except (MemoryError, RuntimeError) as e:
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        print('%s status=oom maxrss_mb=%.1f error=%s' % (head, rss, str(e).split('\n')[0][:80].replace(' ', '_')))
        return
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print('%s reps=%d median_s=%.4f min_s=%.4f maxrss_mb=%.1f' %
          (head, a.reps, statistics.median(times), min(times), rss))


if __name__ == '__main__':
    main()
