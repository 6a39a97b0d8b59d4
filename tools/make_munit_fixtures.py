"""Write the MUNIT golden fixtures from tools/munit_ref.py.

Usage (needs Debian's python3-torch):  /usr/bin/python3 tools/make_munit_fixtures.py [SEED]
(SEED skips the search for a well-conditioned seed, which takes long and picks 25.)

tests/fixtures/munit32.safetensors (all float32; img 32, dim 8, style_dim 4, mlp_dim 16, 2
residual blocks, discriminators of 2 layers at 3 scales, batch 2, recon_x_cyc_w 10 so that the
cycle terms are checked too):
  init.<NET>.<KEY>               every state_dict entry of our networks a.enc_style,
                                 a.enc_content, a (dec.*, mlp.*), b..., dis_a, dis_b
  input.real_A, input.real_B
  fwd.<NET>.image                a.enc_style(real_A), a.enc_content(real_A), b...(real_B)
  fwd.dis_a.scale{0,1,2}, fwd.dis_b.scale{0,1,2}   dis_a(real_A), dis_b(real_B)
  style.<i>                      the style codes of the two steps in the order drawn
                                 (dis_update: s_a, s_b; gen_update: s_a, s_b), from our generator
                                 (unit_ref.Noise) on seed 0, which the C trainer replays
  step1.loss.<term>, step1.grad.<NET>.<PARAM>, step1.state.<NET>.<KEY>, step2.loss.<term>,
  step2.state.<NET>.<KEY>
                                 MUNIT's second step is ill-conditioned in the first step's
                                 rounding: weights after step 1 moved by 1e-6 (rounding-sized)
                                 change the second step's update by 2-30% in PyTorch itself (most
                                 seeds; the sum of the discriminator-, content- and cycle-loss
                                 gradients through the content code). So the C test takes the
                                 weights after step 1 from step1.state (after checking step 1's
                                 gradients) and holds the second update to step2.state.
  translate.A.input, translate.A.style, translate.A2B.image   (and B, B2A): a random image
                                 through the source content encoder and the target decoder
                                 with a random style code, on the initial weights
  translate.A2B.example, translate.A2B.example_style, translate.A2B.from_example   (and B2A):
                                 the style of an example image of the target domain (its style
                                 encoder) and the translation with it
Metadata: family, the configuration, recon_x_cyc_w, and cancelled (biases feeding an
InstanceNorm or AdaIN; notes section 0.4).

tests/fixtures/munit/gen_00000001.pt: the initial generators as the official trainer.save
writes them ({'a': gen_a.state_dict(), 'b': gen_b.state_dict()}: enc_style.*, enc_content.*,
dec.* with the AdaIN running_mean/var buffers, mlp.*), in the legacy (pre-1.6, not zip)
torch.save format and with the content encoder's InstanceNorm running statistics that
PyTorch-0.3 files carry, which loading must drop.
"""

import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import munit_ref as ref  # noqa: E402
import unit_ref  # noqa: E402
from conditioning import pick_seed  # noqa: E402
from ugatit_ref import load_safetensors, save_safetensors  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, 'tests', 'fixtures')
CFG = dict(img_size=32, dim=8, style_dim=4, mlp_dim=16, n_res=2, n_layer=2, num_scales=3,
           batch=2, recon_x_cyc_w=10.0)


def build(seed, dtype=torch.float32):
    torch.manual_seed(seed)
    model = ref.MUNIT(dim=CFG['dim'], style_dim=CFG['style_dim'], n_res=CFG['n_res'],
                      mlp_dim=CFG['mlp_dim'], n_layer=CFG['n_layer'],
                      num_scales=CFG['num_scales'], recon_x_cyc_w=CFG['recon_x_cyc_w'])
    n, s = CFG['batch'], CFG['img_size']
    real_A = torch.rand(n, 3, s, s) * 2 - 1
    real_B = torch.rand(n, 3, s, s) * 2 - 1
    if dtype != torch.float32:
        for net in (model.gen_a, model.gen_b, model.dis_a, model.dis_b):
            net.to(dtype)
        real_A, real_B = real_A.to(dtype), real_B.to(dtype)
    return model, real_A, real_B


def official_gen(gen):
    """gen.state_dict() of a PyTorch-0.3 run: plus the content encoder's IN running stats."""
    sd = {k: v.clone() for k, v in gen.state_dict().items()}
    for name, m in gen.enc_content.named_modules():
        if isinstance(m, unit_ref.Conv2dBlock) and isinstance(m.norm, torch.nn.InstanceNorm2d):
            c = m.conv.out_channels
            sd['enc_content.' + name + '.norm.running_mean'] = torch.zeros(c)
            sd['enc_content.' + name + '.norm.running_var'] = torch.ones(c)
    return sd


def main():
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else pick_seed(build, lambda m: m.cancelled())
    model, real_A, real_B = build(seed)
    nets = model.nets()
    out = {}
    for n, net in nets.items():
        for k, v in net.state_dict().items():
            out['init.%s.%s' % (n, k)] = v.clone()
    out['input.real_A'], out['input.real_B'] = real_A, real_B
    torch.manual_seed(seed + 1000)
    s = CFG['img_size']
    with torch.no_grad():
        for side, x in (('a', real_A), ('b', real_B)):
            for part in ('enc_style', 'enc_content'):
                out['fwd.%s.%s.image' % (side, part)] = nets['%s.%s' % (side, part)](x)
        for d, x in (('dis_a', real_A), ('dis_b', real_B)):
            for i, y in enumerate(nets[d](x)):
                out['fwd.%s.scale%d' % (d, i)] = y
        for d, a2b in (('A', True), ('B', False)):
            x = torch.rand(1, 3, s, s) * 2 - 1
            style = torch.randn(1, CFG['style_dim'], 1, 1)
            t = 'A2B' if a2b else 'B2A'
            out['translate.%s.input' % d] = x
            out['translate.%s.style' % d] = style
            out['translate.%s.image' % t] = model.translate(x, style, a2b)
            example = torch.rand(1, 3, s, s) * 2 - 1
            ex_style = model.style_of(example, a2b)
            out['translate.%s.example' % t] = example
            out['translate.%s.example_style' % t] = ex_style
            out['translate.%s.from_example' % t] = model.translate(x, ex_style, a2b)
    gen_dir = os.path.join(OUT_DIR, 'munit')
    os.makedirs(gen_dir, exist_ok=True)
    torch.save({'a': official_gen(model.gen_a), 'b': official_gen(model.gen_b)},
               os.path.join(gen_dir, 'gen_00000001.pt'), _use_new_zipfile_serialization=False)

    r1 = model.train_step(real_A, real_B, capture=True)
    for t in ref.LOSS_TERMS:
        out['step1.loss.' + t] = r1[t]
    for n, net in nets.items():
        for k, _ in net.named_parameters():
            out['step1.grad.%s.%s' % (n, k)] = r1['grads'][n][k]
    for n, net in nets.items():
        for k, v in net.state_dict().items():
            out['step1.state.%s.%s' % (n, k)] = v.clone()
    r2 = model.train_step(real_A, real_B)
    for t in ref.LOSS_TERMS:
        out['step2.loss.' + t] = r2[t]
    for n, net in nets.items():
        for k, v in net.state_dict().items():
            out['step2.state.%s.%s' % (n, k)] = v.clone()
    for i, d in enumerate(model.draws):
        out['style.%d' % i] = d

    meta = dict(family='munit', ch=CFG['dim'], n_res=CFG['n_res'], img_size=CFG['img_size'],
                n_layer=CFG['n_layer'], num_scales=CFG['num_scales'],
                style_dim=CFG['style_dim'], mlp_dim=CFG['mlp_dim'], batch=CFG['batch'],
                recon_x_cyc_w=CFG['recon_x_cyc_w'],
                cancelled=','.join(sorted(model.cancelled())), seed=seed, torch=torch.__version__)
    path = os.path.join(OUT_DIR, 'munit32.safetensors')
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
