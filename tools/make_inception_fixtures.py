#!/usr/bin/env python3
"""Writes tests/fixtures/inception_features.f32: the 2048-d pool features that
PyTorch computes for two sample images with a FID-variant Inception-v3 and
with torchvision's inception_v3, both filled with the deterministic weights
below (tests/inception_weights.h fills the same ones in C, so no 100 MB
weights file is committed). float32 little-endian, [variant][image][2048]:
variant 0 FID, 1 torchvision; image 0 testA/female_2321.jpg, 1 testB/3414.png.

Weights: every tensor of the state_dict (num_batches_tracked and fc aside) is
a function of its name. seed = FNV-1a 64 of the name; element i (row-major)
takes u = splitmix64(seed + (i + 1) * 0x9E3779B97F4A7C15) >> 11 times 2^-53,
a double in [0, 1), and the value float32(lo + (hi - lo) * u) with [lo, hi]:
  *.conv.weight       [-a, a], a = sqrt(6 / fan_in)   (He's uniform)
  *.bn.weight         [0.8, 1.2]      *.bn.bias          [-0.1, 0.1]
  *.bn.running_mean   [-0.1, 0.1]     *.bn.running_var   [0.8, 1.2]

Preprocessing as pytorch-fid: RGB / 255, F.interpolate to 299 x 299
(bilinear, align_corners=False), 2x - 1.

The FID variant (pytorch-fid's, from the reference notes): average pools
of Mixed_5b-5d, 6b-6e and 7b with count_include_pad=False, a 3x3 stride-1
max pool (padding 1) in Mixed_7c, fc of 1008 classes, no AuxLogits.

Usage: /usr/bin/python3 tools/make_inception_fixtures.py  (from the repository
root; made with torch 1.13.0a0, torchvision 0.14.1a0, numpy 1.24.2)."""
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.models import inception as tvi

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "data", "selfie2anime-sample")
OUT = os.path.join(ROOT, "tests", "fixtures", "inception_features.f32")
IMAGES = ["testA/female_2321.jpg", "testB/3414.png"]
M64 = np.uint64((1 << 64) - 1)


def fnv1a64(s):
    h = 0xCBF29CE484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001B3) & ((1 << 64) - 1)
    return h


def uniforms(name, n):
    with np.errstate(over="ignore"):
        i = np.arange(1, n + 1, dtype=np.uint64)
        z = np.uint64(fnv1a64(name)) + i * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def fill(model):
    sd = model.state_dict()
    for name, t in sd.items():
        if name.endswith("num_batches_tracked") or name.startswith("fc."):
            continue
        if name.endswith("conv.weight"):
            a = np.sqrt(6.0 / np.prod(t.shape[1:]))
            lo, hi = -a, a
        elif name.endswith(("bn.weight", "bn.running_var")):
            lo, hi = 0.8, 1.2
        elif name.endswith(("bn.bias", "bn.running_mean")):
            lo, hi = -0.1, 0.1
        else:
            raise SystemExit("unexpected tensor " + name)
        v = (lo + (hi - lo) * uniforms(name, t.numel())).astype(np.float32)
        t.copy_(torch.from_numpy(v.reshape(t.shape)))


def avg_nopad(x):
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class FidA(tvi.InceptionA):
    def _forward(self, x):
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return [self.branch1x1(x), b5, b3, self.branch_pool(avg_nopad(x))]


class FidC(tvi.InceptionC):
    def _forward(self, x):
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = self.branch7x7dbl_1(x)
        for m in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            d = m(d)
        return [self.branch1x1(x), b7, d, self.branch_pool(avg_nopad(x))]


class FidE(tvi.InceptionE):
    def __init__(self, cin, max_pool):
        super().__init__(cin)
        self.max_pool = max_pool

    def _forward(self, x):
        t = self.branch3x3_1(x)
        u = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        if self.max_pool:
            p = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        else:
            p = avg_nopad(x)
        return [self.branch1x1(x), self.branch3x3_2a(t), self.branch3x3_2b(t),
                self.branch3x3dbl_3a(u), self.branch3x3dbl_3b(u), self.branch_pool(p)]


def fid_model():
    m = tvi.Inception3(num_classes=1008, aux_logits=False, init_weights=False)
    m.Mixed_5b, m.Mixed_5c, m.Mixed_5d = FidA(192, 32), FidA(256, 64), FidA(288, 64)
    m.Mixed_6b, m.Mixed_6c = FidC(768, 128), FidC(768, 160)
    m.Mixed_6d, m.Mixed_6e = FidC(768, 160), FidC(768, 192)
    m.Mixed_7b, m.Mixed_7c = FidE(1280, False), FidE(2048, True)
    return m


def pool3(m, x):
    for name in ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1",
                 "Conv2d_4a_3x3", "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a",
                 "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c"]:
        x = getattr(m, name)(x)
    return F.adaptive_avg_pool2d(x, 1).flatten(1)


def prepare(path):
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
    x = torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0)
    x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
    return 2 * x - 1


def main():
    torch.set_grad_enabled(False)
    x = torch.cat([prepare(os.path.join(SHARED, p)) for p in IMAGES])
    feats = []
    for m in (fid_model(), tvi.Inception3(num_classes=1000, aux_logits=False, init_weights=False)):
        fill(m)
        m.eval()
        f = pool3(m, x)
        print(type(m.Mixed_7c).__name__, "features: mean %.4g, max %.4g" % (f.mean(), f.max()))
        feats.append(f.numpy())
    np.stack(feats).astype("<f4").tofile(OUT)
    print(OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
