#!/usr/bin/env python3
"""Writes the KID fixtures that tests/test_kid.c checks src/eval/kid.c against:
two small feature sets and the KID numbers numpy computes from them under
both protocols (see ../shared/reference/eval-reference.md, section 1).

  tests/fixtures/kid_real.f32, kid_fake.f32   float32 little-endian, row-major
  tests/fixtures/kid_expected.txt             one line per case:
      NAME PROTOCOL SUBSETS SUBSET_SIZE SEED BLOCK_SIZE MEAN STD

The subsets protocol draws its indices as src/eval/kid.c does: PCG32
(src/core/rng.c) seeded with (seed, stream 0x4b4944); per subset the real
rows, then the fake rows, each the first M entries of a partial Fisher-Yates
shuffle of a fresh 0..N-1, with j = i + below(N - i).

Usage: /usr/bin/python3 tools/make_kid_fixtures.py  (from the repository root;
made with numpy 1.24.2)."""
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures")
M64 = (1 << 64) - 1


class Pcg32:
    def __init__(self, seed, stream):
        self.state = 0
        self.inc = ((stream << 1) | 1) & M64
        self.u32()
        self.state = (self.state + seed) & M64
        self.u32()

    def u32(self):
        old = self.state
        self.state = (old * 6364136223846793005 + self.inc) & M64
        xs = (((old >> 18) ^ old) >> 27) & 0xFFFFFFFF
        rot = old >> 59
        return ((xs >> rot) | (xs << ((-rot) & 31))) & 0xFFFFFFFF

    def below(self, n):
        threshold = ((1 << 32) - n) % n
        while True:
            x = self.u32()
            if x >= threshold:
                return x % n


def draw(rng, n, k):
    idx = list(range(n))
    for i in range(k):
        j = i + rng.below(n - i)
        idx[i], idx[j] = idx[j], idx[i]
    return idx[:k]


def mmd2(x, y):
    d = x.shape[1]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    m, n = len(x), len(y)
    return ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
            - 2 * kxy.sum() / (m * n))


def subsets(x, y, count, size, seed):
    rng = Pcg32(seed, 0x4B4944)
    est = []
    for _ in range(count):
        xi = draw(rng, len(x), size)
        yi = draw(rng, len(y), size)
        est.append(mmd2(x[xi], y[yi]))
    est = np.array(est)
    return est.mean(), est.std()


def blocks(x, y, bs):
    B = -(-max(len(x), len(y)) // bs)

    def cuts(N):
        v, small = N // B, B - N % B
        return [b * v + max(0, b - small) for b in range(B + 1)]

    cx, cy = cuts(len(x)), cuts(len(y))
    est = np.array([mmd2(x[cx[b]:cx[b + 1]], y[cy[b]:cy[b + 1]]) for b in range(B)])
    return est.mean(), np.sqrt(est.var(ddof=1) / B)


def main():
    g = np.random.default_rng(11)
    d = 16
    # Non-negative like Inception's pool features, the fake set shifted a little.
    real = g.gamma(2.0, 0.5, size=(23, d)).astype(np.float32)
    fake = (g.gamma(2.0, 0.5, size=(31, d)) + 0.15).astype(np.float32)
    real.astype("<f4").tofile(os.path.join(OUT, "kid_real.f32"))
    fake.astype("<f4").tofile(os.path.join(OUT, "kid_fake.f32"))
    x, y = real.astype(np.float64), fake.astype(np.float64)
    cases = [
        ("subsets_default", "subsets", 100, 23, 0, 10, *subsets(x, y, 100, 23, 0)),
        ("subsets_7x11", "subsets", 7, 11, 5, 10, *subsets(x, y, 7, 11, 5)),
        ("blocks_10", "blocks", 0, 0, 0, 10, *blocks(x, y, 10)),
        ("blocks_4", "blocks", 0, 0, 0, 4, *blocks(x, y, 4)),
        ("whole", "whole", 0, 0, 0, 0, mmd2(x, y), 0.0),
    ]
    with open(os.path.join(OUT, "kid_expected.txt"), "w") as f:
        for c in cases:
            f.write("%s %s %d %d %d %d %.17g %.17g\n" % c)
            print("%s %s %d %d %d %d %.17g %.17g" % c)


main()
