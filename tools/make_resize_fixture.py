#!/usr/bin/env python3
"""Writes the reference outputs of PIL's Image.resize(BILINEAR) that
tests/test_image.c compares against: raw RGB bytes, row-major, no header.

Usage: /usr/bin/python3 tools/make_resize_fixture.py  (from the repository root;
made with Pillow 9.4.0)."""
import os

from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "data", "selfie2anime-sample")
OUT = os.path.join(ROOT, "tests", "fixtures")

CASES = [
    # (source, output name, (width, height))
    ("testA/female_2321.jpg", "resize_female_2321_96.rgb", (96, 96)),
    ("testB/3414.png", "resize_3414_96.rgb", (96, 96)),
    ("testB/3414.png", "resize_3414_333x201.rgb", (333, 201)),
]

for src, name, size in CASES:
    img = Image.open(os.path.join(SHARED, src)).convert("RGB")
    out = img.resize(size, Image.BILINEAR)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(out.tobytes())
    print(name, size, len(out.tobytes()), "bytes")
