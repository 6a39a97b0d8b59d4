"""PyTorch side of bench/bench_inception.c: images per second of the FID-variant
Inception-v3 forward pass (tools/make_inception_fixtures.py builds it) at batch B
after one warm-up pass, on the deterministic test weights, eval mode, no grad.

  /usr/bin/python3 bench/bench_inception_torch.py [--batch B] [--reps R] [--threads T]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tools'))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--threads', type=int, default=2)
    a = ap.parse_args()
    import torch
    import make_inception_fixtures as F
    torch.set_num_threads(a.threads)
    torch.set_grad_enabled(False)
    m = F.fid_model()
    F.fill(m)
    m.eval()
    x = torch.rand(a.batch, 3, 299, 299) * 2 - 1
    times = []
    for r in range(a.reps + 1):
        t0 = time.perf_counter()
        F.pool3(m, x)
        if r > 0:
            times.append(time.perf_counter() - t0)
    print('impl=torch net=inception-fid batch=%d reps=%d threads=%d images_per_s_mean=%.2f '
          'images_per_s_best=%.2f' % (a.batch, a.reps, a.threads, a.batch * a.reps / sum(times),
                                      a.batch / min(times)))


main()
