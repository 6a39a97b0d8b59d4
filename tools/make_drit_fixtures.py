"""Write the DRIT golden fixtures from tools/drit_ref.py.

Usage (needs Debian's python3-torch):  /usr/bin/python3 tools/make_drit_fixtures.py
(--l1-flips: print why enc_a's gradients are the most fragile instead; see l1_flips)

DRIT's content discriminator needs a content code of 53 or more (three 7x7 stride-2 layers, then
a 4x4 one), so the fixture keeps the official crop, 216, and makes the channels tiny instead:
ch 2 (the official 64), dis_scale 3, batch 2 (the official split into an "encoded" and a
"random" sample per domain). The input images are not stored: both sides draw them from our
generator (Noise, src/core/rng.c) on seed INPUT_SEED and stream INPUT_STREAM, uniform in [-1, 1)
(2u - 1 in double, rounded to float), real_A's 2 x 3 x 216 x 216 values first, then real_B's.

The official init (every Conv* weight from N(0, 0.02)) makes the fakes of such tiny networks
nearly constant images, whose InstanceNorms in the encoders then cancel catastrophically: float32
and float64 PyTorch disagree by percents on the generators' gradients. So the fixture's initial
weights are drawn with std INIT_STD (0.1) instead, where they agree to 5e-6 on the gradients
the C test compares (8e-5 on enc_a's) and to 2e-3 of the change on the weights after the four
iterations (measured on seed SEED with a float64 copy of the reference), and the gradients are taken in an iteration at learning rate 0, so that the
second generator update's gradients are those at the initial weights too, not behind a first
update that Adam makes of rounding noise.

tests/fixtures/drit216.safetensors (all float32):
  init.<NET>.<KEY>           every state_dict entry of the eight networks
  fwd.enc_c.content{A,B}     eval-mode content codes of real_A[0], real_B[0] (no noise)
  fwd.enc_a.{mu,logvar}{A,B} the attribute distributions of real_A[0], real_B[0]
  fwd.gen.image{A,B}         gen on those content codes (A's decoded by decA, B's by decB) with
                             the attribute codes fwd.gen.z{A,B} (stored, 1 x 8)
  fwd.disA.scale{0,1,2}, fwd.disContent.image   disA(real_A), disContent(content A)
  translate.{A2B,B2A}.image  translate(real_A[0], zA) and translate(real_B[0], zA) on the
                             initial weights
  Four iterations on (real_A, real_B), with d_iter 2: content-only, full at lr 0, content-only,
  full:
  step1.loss.disContent, step3.loss.disContent
  step2.loss.<term>, step2.grad.<NET>.<PARAM>   the gradients each optimiser stepped with (at lr
                             0): the discriminators', enc_a's, and enc_c's and gen's of the
                             second update (step2.grad.phase2.<NET>.<PARAM>)
  step4.loss.<term>, step4.state.<NET>.<KEY>    every parameter after the four iterations
Metadata: family, ch, img_size, dis_scale, batch, seed, cancelled (biases feeding an
InstanceNorm, notes section 0.4), torch.

tests/fixtures/drit/00000.pth: the initial networks in the official checkpoint layout (one dict:
the eight state_dicts, their Adam states, 'ep', 'total_it'), zip torch.save format.
"""

import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drit_ref as ref  # noqa: E402
from ugatit_ref import load_safetensors, save_safetensors  # noqa: E402
from unit_ref import Noise  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, 'tests', 'fixtures')
CFG = dict(ch=2, img_size=216, dis_scale=3, batch=2)
INPUT_SEED, INPUT_STREAM = 2024, 0x696d6773  # "imgs"
INIT_STD, SEED = 0.1, 3


def inputs():
    n, s = CFG['batch'], CFG['img_size']
    rng = Noise(INPUT_SEED, INPUT_STREAM)
    vals = [2.0 * rng._uniform() - 1.0 for _ in range(2 * n * 3 * s * s)]
    x = torch.tensor(vals, dtype=torch.float32).reshape(2, n, 3, s, s)
    return x[0].contiguous(), x[1].contiguous()


def start(pth_dir=None):
    """The model, the inputs and the fixture's entries up to the first full iteration: the
    initial weights, the forward passes and step 1 (content-only), then learning rate 0. With
    pth_dir, the initial networks are also written there as the official checkpoint."""
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(SEED)
    model = ref.DRIT(ch=CFG['ch'], dis_scale=CFG['dis_scale'], noise_seed=SEED,
                     init_std=INIT_STD)
    real_A, real_B = inputs()
    out = {}
    for n, net in model.nets().items():
        for k, v in net.state_dict().items():
            out['init.%s.%s' % (n, k)] = v.clone()
    A0, B0 = real_A[0:1], real_B[0:1]
    g = torch.Generator().manual_seed(SEED + 1000)
    zA, zB = torch.randn(1, ref.NZ, generator=g), torch.randn(1, ref.NZ, generator=g)
    with torch.no_grad():
        ca, cb = model.enc_c.forward_a(A0, None), model.enc_c.forward_b(B0, None)
        out['fwd.enc_c.contentA'], out['fwd.enc_c.contentB'] = ca, cb
        for d, x in (('A', A0), ('B', B0)):
            mu, lv = model.enc_a.forward_d(x, d)
            out['fwd.enc_a.mu' + d], out['fwd.enc_a.logvar' + d] = mu, lv
        out['fwd.gen.zA'], out['fwd.gen.zB'] = zA, zB
        out['fwd.gen.imageA'] = model.gen.forward_d(ca, zA, 'A')
        out['fwd.gen.imageB'] = model.gen.forward_d(cb, zB, 'B')
        for i, y in enumerate(model.disA(real_A)):
            out['fwd.disA.scale%d' % i] = y
        out['fwd.disContent.image'] = model.disContent(ca)[0]
        out['translate.A2B.image'] = model.translate(A0, zA, True)
        out['translate.B2A.image'] = model.translate(B0, zA, False)
    if pth_dir:
        os.makedirs(pth_dir, exist_ok=True)
        ckpt = {n: net.state_dict() for n, net in model.nets().items()}
        ckpt.update({n + '_opt': model.opt[n].state_dict() for n in ref.NET_NAMES})
        ckpt['ep'], ckpt['total_it'] = 0, 0
        torch.save(ckpt, os.path.join(pth_dir, "00000.pth"),
                   _use_new_zipfile_serialization=False)
    out['step1.loss.disContent'] = model.content_step(real_A, real_B)['disContent']
    model.set_lr_factor(0)
    return model, real_A, real_B, out


def main():
    model, real_A, real_B, out = start(os.path.join(OUT_DIR, 'drit'))
    r2 = model.full_step(real_A, real_B, capture=True)
    model.set_lr_factor(1)
    for t in ref.LOSS_TERMS:
        out['step2.loss.' + t] = r2[t]
    grads = r2['grads']
    for n in ref.NET_NAMES:
        if n in grads:
            for k, v in grads[n].items():
                out['step2.grad.%s.%s' % (n, k)] = v
    for n, gs in grads['phase2'].items():
        for k, v in gs.items():
            out['step2.grad.phase2.%s.%s' % (n, k)] = v
    out['step3.loss.disContent'] = model.content_step(real_A, real_B)['disContent']
    r4 = model.full_step(real_A, real_B)
    for t in ref.LOSS_TERMS:
        out['step4.loss.' + t] = r4[t]
    for n, net in model.nets().items():
        for k, v in net.state_dict().items():
            out['step4.state.%s.%s' % (n, k)] = v.clone()

    cancelled = ['%s.%s' % (n, k) for n, net in model.nets().items()
                 for k in ref.cancelled_biases(net)]
    meta = dict(family='drit', ch=CFG['ch'], img_size=CFG['img_size'],
                dis_scale=CFG['dis_scale'], batch=CFG['batch'], seed=SEED,
                input_seed=INPUT_SEED, init_std=INIT_STD, cancelled=','.join(sorted(cancelled)),
                torch=torch.__version__)
    path = os.path.join(OUT_DIR, 'drit216.safetensors')
    save_safetensors(path, out, meta)
    back, _ = load_safetensors(path)
    for k, v in out.items():
        a = v.detach().numpy() if isinstance(v, torch.Tensor) else np.float32(v)
        assert np.array_equal(back[k].reshape(np.shape(a)), a), k
    print('== %s: %d tensors, %d bytes, seed %d' % (path, len(out), os.path.getsize(path), SEED))
    for t in ref.LOSS_TERMS:
        print('  step2 %-14s %.8g   step4 %.8g' % (t, r2[t], r4[t]))


def l1_flips():
    """Why enc_a's gradients are the fixture's most fragile (tests/test_drit.c): the L1
    reconstruction losses of the first generator update have pixels within about 1e-5 of their
    target, where |x| turns; a forward pass whose sums run in another order sends such a pixel's
    gradient the other way. Prints, for each of the four L1 terms, its pixels closest to their
    target and how far one of them, turned, moves enc_a's gradients (relative L2, worst three)."""
    torch_abs, calls, turn = torch.abs, [], [-1]

    def abs_turning(x, *args, **kw):
        y = torch_abs(x, *args, **kw)
        calls.append(torch_abs(x.detach()).flatten().sort().values[:4].tolist())
        if len(calls) - 1 == turn[0]:
            m = torch.zeros(x.numel())
            m[torch_abs(x.detach()).flatten().argmin()] = 1
            t = x * m.reshape(x.shape) * torch.sign(x).detach()
            y = y - 2 * t + 2 * t.detach()  # the same value, that pixel's gradient turned
        return y

    def grads():
        model, real_A, real_B, _ = start()
        torch.abs = abs_turning
        try:
            return model.full_step(real_A, real_B, capture=True)['grads']['enc_a']
        finally:
            torch.abs = torch_abs

    base = grads()
    for i, term in enumerate(('l1_cc_a', 'l1_cc_b', 'l1_self_a', 'l1_self_b')):
        calls.clear()
        turn[0] = i
        g = grads()
        moved = sorted(((g[k] - v).norm().item() / max(v.norm().item(), 1e-30), k)
                       for k, v in base.items())[-3:]
        print('%-9s closest |x - target| %s; one turned: %s' % (
            term, ' '.join('%.1e' % v for v in calls[i]),
            ', '.join('enc_a.%s %.1e' % (k, r) for r, k in reversed(moved))))


if __name__ == '__main__':
    l1_flips() if sys.argv[1:] == ['--l1-flips'] else main()
