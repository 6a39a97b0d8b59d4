#!/usr/bin/env python3
"""Writes the reference outputs of PIL's Image.resize(BILINEAR) and
Image.resize(BICUBIC) (CycleGAN's filter) that tests/test_image.c compares
against: raw RGB bytes, row-major, no header.

Usage: /usr/bin/python3 tools/make_resize_fixture.py  (from the repository root;
made with Pillow 9.4.0)."""
import os

from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "data", "selfie2anime-sample")
OUT = os.path.join(ROOT, "tests", "fixtures")

CASES = [
    # (source, output name, (width, height), filter)
    ("testA/female_2321.jpg", "resize_female_2321_96.rgb", (96, 96), Image.BILINEAR),
    ("testB/3414.png", "resize_3414_96.rgb", (96, 96), Image.BILINEAR),
    ("testB/3414.png", "resize_3414_333x201.rgb", (333, 201), Image.BILINEAR),
    # CycleGAN's training resize (286, here from a 256 image: an upscale) and a downscale.
    ("testB/3414.png", "resize_bicubic_3414_286.rgb", (286, 286), Image.BICUBIC),
    ("testA/female_2321.jpg", "resize_bicubic_female_2321_77x51.rgb", (77, 51), Image.BICUBIC),
]

for src, name, size, resample in CASES:
    img = Image.open(os.path.join(SHARED, src)).convert("RGB")
    out = img.resize(size, resample)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(out.tobytes())
    print(name, size, len(out.tobytes()), "bytes")
