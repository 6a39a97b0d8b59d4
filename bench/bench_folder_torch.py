"""PyTorch side of the folder row (bench/run.sh --rows folder): the generator of
tools/ugatit_ref.py (PyTorch's default initialisation, seed 1234) on every image of a folder,
each resized with Pillow's bilinear filter to img and mapped to [-1, 1] as the release's test
transform does. Saves the generator's state_dict first (--save, a .pt that ugatit translate
reads as genA2B), so that both sides run the same weights. Times the generator loop alone: the
forward passes, batch 1, after the images are decoded; not start-up, not the model's creation,
not decoding or encoding.

  bench_folder_torch.py --input DIR --save GEN.pt [--img S] [--ch C] [--light 0|1]

Prints one line of key=value like bench.c. Run with /usr/bin/python3 (Debian's torch 1.13).
"""
import argparse
import os
import resource
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tools'))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--input', required=True)
    ap.add_argument('--save', required=True)
    ap.add_argument('--img', type=int, default=256)
    ap.add_argument('--ch', type=int, default=64)
    ap.add_argument('--light', type=int, default=1)
    a = ap.parse_args()

    import numpy as np
    import torch
    from PIL import Image
    import ugatit_ref as R
    torch.set_num_threads(2)
    torch.manual_seed(1234)
    net = R.ResnetGenerator(a.ch, 4, a.img, bool(a.light)).eval()
    torch.save(net.state_dict(), a.save)
    xs = []
    for name in sorted(os.listdir(a.input)):
        im = Image.open(os.path.join(a.input, name)).convert('RGB')
        im = im.resize((a.img, a.img), Image.BILINEAR)
        x = torch.from_numpy(np.asarray(im, dtype=np.float32) / 255.0).permute(2, 0, 1)
        xs.append(((x - 0.5) / 0.5).unsqueeze(0))
    t0 = time.perf_counter()
    with torch.no_grad():
        for x in xs:
            net(x)
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print('impl=torch mode=folder img=%d ch=%d light=%d images=%d median_s=%.4f min_s=%.4f '
          'maxrss_mb=%.1f' % (a.img, a.ch, a.light, len(xs), dt, dt, rss))


if __name__ == '__main__':
    main()
