"""Write the CycleGAN golden fixtures from tools/cyclegan_ref.py.

Usage (needs Debian's python3-torch):  /usr/bin/python3 tools/make_cyclegan_fixtures.py

tests/fixtures/cyclegan32.safetensors (all float32; img 32, ngf 8, 2 blocks, batch 2):
  init.<NET>.<KEY>               every state_dict entry of G_A, G_B, D_A, D_B before training
  input.real_A, input.real_B
  fwd.G_A.image, fwd.G_B.image   G_A(real_A), G_B(real_B) on the initial weights
  fwd.D_A.logit, fwd.D_B.logit   D_A(real_B), D_B(real_A)
  step1.loss.<term>, step1.grad.<NET>.<PARAM>, step2.loss.<term>, step2.state.<NET>.<KEY>
  translate.{A,B}.input, translate.G_A.image, translate.G_B.image
                                 the sample selfie / anime face at 64 x 64 (the official test
                                 transform: Pillow bicubic resize) through the initial generators
The pools hold fewer than 50 images over two steps, so they return the fakes as they are: no
draw happens, and ours and the reference's agree without sharing a generator.
Metadata: family, the configuration, and cancelled (the biases that feed an InstanceNorm,
NET.KEY comma-separated: their exact gradient is 0 and the computed one rounding noise, so the
test measures their gradient error relative to the network's largest gradient norm instead of
their own, and skips them after two steps, where Adam has amplified the noise into lr-sized
updates in both implementations, differently; notes section 0.4).

tests/fixtures/cyclegan/latest_net_G_A.pth, latest_net_G_B.pth: the initial generators as the
official code saves them (torch.save of the bare state_dict), for ugatit translate --model.
"""

import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cyclegan_ref as ref  # noqa: E402
from conditioning import pick_seed  # noqa: E402
from ugatit_ref import load_safetensors, save_safetensors  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, 'tests', 'fixtures')
SAMPLES = os.path.join(ROOT, '..', 'shared', 'data', 'selfie2anime-sample')
SAMPLE = {'A': os.path.join(SAMPLES, 'testA', 'female_2321.jpg'),
          'B': os.path.join(SAMPLES, 'testB', '3414.png')}

CFG = dict(img_size=32, ngf=8, n_blocks=2, n_layers=3, batch=2, translate_size=64)


def build(seed, dtype=torch.float32):
    torch.manual_seed(seed)
    model = ref.CycleGAN(ngf=CFG['ngf'], n_blocks=CFG['n_blocks'], n_layers=CFG['n_layers'])
    n, s = CFG['batch'], CFG['img_size']
    real_A = torch.rand(n, 3, s, s) * 2 - 1
    real_B = torch.rand(n, 3, s, s) * 2 - 1
    if dtype != torch.float32:
        for net in model.nets().values():
            net.to(dtype)
        real_A, real_B = real_A.to(dtype), real_B.to(dtype)
    return model, real_A, real_B


def cancelled(model):
    return {'%s.%s' % (n, k) for n, net in model.nets().items() for k in ref.cancelled_biases(net)}


def load_sample(path, size):
    """The official test transform: Resize((size, size)) with Pillow's bicubic, ToTensor,
    Normalize(0.5, 0.5)."""
    im = Image.open(path).convert('RGB').resize((size, size), Image.BICUBIC)
    x = torch.from_numpy(np.asarray(im, dtype=np.float32).copy()).permute(2, 0, 1)[None]
    return (x / 255.0 - 0.5) / 0.5


def main():
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    seed = pick_seed(build, cancelled)
    model, real_A, real_B = build(seed)
    out = {}
    for n, net in model.nets().items():
        for k, v in net.state_dict().items():
            out['init.%s.%s' % (n, k)] = v.clone()
    out['input.real_A'], out['input.real_B'] = real_A, real_B
    with torch.no_grad():
        out['fwd.G_A.image'] = model.G_A(real_A)
        out['fwd.G_B.image'] = model.G_B(real_B)
        out['fwd.D_A.logit'] = model.D_A(real_B)
        out['fwd.D_B.logit'] = model.D_B(real_A)
        for d, gen in (('A', 'G_A'), ('B', 'G_B')):
            x = load_sample(SAMPLE[d], CFG['translate_size'])
            out['translate.%s.input' % d] = x
            out['translate.%s.image' % gen] = getattr(model, gen)(x)
    pth_dir = os.path.join(OUT_DIR, 'cyclegan')
    os.makedirs(pth_dir, exist_ok=True)
    for gen in ('G_A', 'G_B'):
        torch.save(getattr(model, gen).state_dict(),
                   os.path.join(pth_dir, 'latest_net_%s.pth' % gen))

    r1 = model.train_step(real_A, real_B, capture=True)
    for t in ref.LOSS_TERMS:
        out['step1.loss.' + t] = r1[t]
    for n, net in model.nets().items():
        for k, _ in net.named_parameters():
            out['step1.grad.%s.%s' % (n, k)] = r1['grads'][n][k]
    r2 = model.train_step(real_A, real_B)
    for t in ref.LOSS_TERMS:
        out['step2.loss.' + t] = r2[t]
    for n, net in model.nets().items():
        for k, v in net.state_dict().items():
            out['step2.state.%s.%s' % (n, k)] = v.clone()

    meta = dict(family='cyclegan', ch=CFG['ngf'], n_res=CFG['n_blocks'],
                img_size=CFG['img_size'], n_layers_D=CFG['n_layers'], batch=CFG['batch'],
                translate_size=CFG['translate_size'],
                cancelled=','.join(sorted(cancelled(model))), seed=seed, torch=torch.__version__)
    path = os.path.join(OUT_DIR, 'cyclegan32.safetensors')
    save_safetensors(path, out, meta)
    back, _ = load_safetensors(path)
    for k, v in out.items():
        a = v.detach().numpy() if isinstance(v, torch.Tensor) else np.float32(v)
        assert np.array_equal(back[k].reshape(np.shape(a)), a), k
    print('== %s: %d tensors, %d bytes, seed %d' % (path, len(out), os.path.getsize(path), seed))
    for t in ref.LOSS_TERMS:
        print('  step1 %-8s %.8g   step2 %.8g' % (t, r1[t], r2[t]))


if __name__ == '__main__':
    main()
