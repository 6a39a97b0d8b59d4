"""Write the UNIT golden fixtures from tools/unit_ref.py.

Usage (needs Debian's python3-torch):  /usr/bin/python3 tools/make_unit_fixtures.py

tests/fixtures/unit32.safetensors (all float32; img 32, dim 8, 2 residual blocks, discriminators
of 2 layers at 3 scales, batch 2):
  init.<NET>.<KEY>               every state_dict entry of a.enc, a.dec, b.enc, b.dec, dis_a, dis_b
  input.real_A, input.real_B
  fwd.<ENC>.image                a.enc(real_A), b.enc(real_B) (the latents h) on the initial weights
  fwd.dis_a.scale{0,1,2}, fwd.dis_b.scale{0,1,2}   dis_a(real_A), dis_b(real_B)
  noise.<i>                      the latent noise of the two steps in the order drawn (dis_update:
                                 n_a, n_b; gen_update: n_a, n_b, n_b_recon, n_a_recon), from our
                                 generator (unit_ref.Noise) on seed 0, which the C trainer replays
  step1.loss.<term>, step1.grad.<NET>.<PARAM>, step2.loss.<term>, step2.state.<NET>.<KEY>
  translate.A.input, translate.B.input, translate.A2B.image, translate.B2A.image
                                 random images at 32 through a.enc -> b.dec and b.enc -> a.dec
                                 (the official test path: no noise) on the initial weights
Metadata: family, the configuration, and cancelled (biases feeding an InstanceNorm; see
tools/make_cyclegan_fixtures.py and notes section 0.4).

tests/fixtures/unit/gen_00000001.pt: the initial generators as the official trainer.save writes
them ({'a': gen_a.state_dict(), 'b': gen_b.state_dict()}, keys enc.* and dec.*), in the legacy
(pre-1.6, not zip) torch.save format and with the InstanceNorm running statistics that
PyTorch-0.3 files carry (enc.model.N.norm.running_mean, ...), which loading must drop.
"""

import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import unit_ref as ref  # noqa: E402
from conditioning import pick_seed  # noqa: E402
from ugatit_ref import load_safetensors, save_safetensors  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, 'tests', 'fixtures')
CFG = dict(img_size=32, dim=8, n_res=2, n_layer=2, num_scales=3, batch=2)


def build(seed, dtype=torch.float32):
    torch.manual_seed(seed)
    model = ref.UNIT(dim=CFG['dim'], n_res=CFG['n_res'], n_layer=CFG['n_layer'],
                     num_scales=CFG['num_scales'])
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


def official_gen(enc, dec):
    """gen_X.state_dict() of a PyTorch-0.3 run: enc.*, dec.*, plus InstanceNorm running stats."""
    sd = {'enc.' + k: v.clone() for k, v in enc.state_dict().items()}
    sd.update({'dec.' + k: v.clone() for k, v in dec.state_dict().items()})
    for prefix, net in (('enc.', enc), ('dec.', dec)):
        for name, m in net.named_modules():
            if isinstance(m, ref.Conv2dBlock) and isinstance(m.norm, torch.nn.InstanceNorm2d):
                c = m.conv.out_channels
                sd[prefix + name + '.norm.running_mean'] = torch.zeros(c)
                sd[prefix + name + '.norm.running_var'] = torch.ones(c)
    return sd


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
    torch.manual_seed(seed + 1000)
    s = CFG['img_size']
    with torch.no_grad():
        out['fwd.a.enc.image'] = model.enc_a(real_A)
        out['fwd.b.enc.image'] = model.enc_b(real_B)
        for d, x in (('dis_a', real_A), ('dis_b', real_B)):
            for i, y in enumerate(model.nets()[d](x)):
                out['fwd.%s.scale%d' % (d, i)] = y
        for d, a2b in (('A', True), ('B', False)):
            x = torch.rand(1, 3, s, s) * 2 - 1
            out['translate.%s.input' % d] = x
            out['translate.%s.image' % ('A2B' if a2b else 'B2A')] = model.translate(x, a2b)
    gen_dir = os.path.join(OUT_DIR, 'unit')
    os.makedirs(gen_dir, exist_ok=True)
    torch.save({'a': official_gen(model.enc_a, model.dec_a),
                'b': official_gen(model.enc_b, model.dec_b)},
               os.path.join(gen_dir, 'gen_00000001.pt'), _use_new_zipfile_serialization=False)

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
    for i, n in enumerate(model.draws):
        out['noise.%d' % i] = n

    meta = dict(family='unit', ch=CFG['dim'], n_res=CFG['n_res'], img_size=CFG['img_size'],
                n_layer=CFG['n_layer'], num_scales=CFG['num_scales'], batch=CFG['batch'],
                cancelled=','.join(sorted(cancelled(model))), seed=seed, torch=torch.__version__)
    path = os.path.join(OUT_DIR, 'unit32.safetensors')
    save_safetensors(path, out, meta)
    back, _ = load_safetensors(path)
    for k, v in out.items():
        a = v.detach().numpy() if isinstance(v, torch.Tensor) else np.float32(v)
        assert np.array_equal(back[k].reshape(np.shape(a)), a), k
    print('== %s: %d tensors, %d bytes, seed %d' % (path, len(out), os.path.getsize(path), seed))
    for t in ref.LOSS_TERMS:
        print('  step1 %-22s %.8g   step2 %.8g' % (t, r1[t], r2[t]))


if __name__ == '__main__':
    main()
