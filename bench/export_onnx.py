"""Exports the generator of one benchmark row to ONNX for the ONNX Runtime column of
bench/run.sh: tools/ugatit_ref.py's ResnetGenerator (the architecture bench_torch.py times),
PyTorch's default initialisation, batch 1, outputs image, CAM logit and heatmap.

  export_onnx.py --img S --ch C --light 0|1 --out FILE.onnx

Run with /usr/bin/python3 (Debian's torch 1.13). The weights do not matter for timing.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tools'))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--img', type=int, default=256)
    ap.add_argument('--ch', type=int, default=64)
    ap.add_argument('--light', type=int, default=1)
    ap.add_argument('--out', required=True)
    a = ap.parse_args()

    import torch
    import ugatit_ref as R
    torch.manual_seed(1234)
    net = R.ResnetGenerator(a.ch, 4, a.img, bool(a.light)).eval()
    x = torch.zeros(1, 3, a.img, a.img)
    tmp = a.out + '.tmp'
    with torch.no_grad():
        torch.onnx.export(net, x, tmp, opset_version=13, input_names=['x'],
                          output_names=['image', 'cam_logit', 'heatmap'])
    os.replace(tmp, a.out)


if __name__ == '__main__':
    main()
