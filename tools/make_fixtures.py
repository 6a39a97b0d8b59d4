"""Write the golden fixtures tests/fixtures/NAME.safetensors from tools/ugatit_ref.py.

Usage (needs Debian's python3-torch 1.13):  /usr/bin/python3 tools/make_fixtures.py [NAME ...]
(all of CONFIGS without a name). light96 and full32 are the release's architecture;
adain_nocamg and gn_nocamd two of the paper's ablations (see ugatit_ref.NORMS).

Per config the file holds (all float32):
  init.<NET>.<KEY>          every state_dict entry of the six networks before training
  input.real_A, input.real_B
  fwd.<gen>.{image,cam_logit,heatmap}   eval-mode generator forwards on the initial weights
  fwd.<dis>.{logit,cam_logit,heatmap}   eval-mode discriminator forwards on the initial weights
  step1.loss.<term>, step1.grad.<NET>.<PARAM>, step1.<fake image>
  step2.loss.<term>, step2.state.<NET>.<KEY>   (after two training steps on the same batch)
  translate.*               light96 only: the sample selfie through genA2B (initial weights)
"""

import os
import sys

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ugatit_ref as ref  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, 'tests', 'fixtures')
SAMPLE = os.path.join(ROOT, '..', 'shared', 'data', 'selfie2anime-sample', 'testA',
                      'female_2321.jpg')

SEED = 0
TRAIN = dict(lr=1e-4, weight_decay=1e-4, adv_weight=1.0, cycle_weight=10.0,
             identity_weight=10.0, cam_weight=1000.0)

CONFIGS = {
    'light96': dict(light=True, img_size=96, ch=4, n_res=2, batch=1,
                    n_layers_global=7, n_layers_local=5, translate=True),
    'full32': dict(light=False, img_size=32, ch=4, n_res=2, batch=2,
                   n_layers_global=5, n_layers_local=3, translate=False),
    'adain_nocamg': dict(light=False, img_size=32, ch=4, n_res=2, batch=2,
                         n_layers_global=5, n_layers_local=3, translate=False,
                         norm='adain', cam_g=False, cam_d=True),
    'gn_nocamd': dict(light=True, img_size=32, ch=4, n_res=2, batch=2,
                      n_layers_global=5, n_layers_local=3, translate=False,
                      norm='gn', cam_g=True, cam_d=False, nudge_norms=True),
}

# Why gn_nocamd nudges its norms: at ch 4 every GroupNorm has one channel per group, so the
# up-sampling block's norm removes any per-channel constant of the residual stream, and the
# gradient of the residual blocks' GroupNorm biases is exactly zero. Computed, it is rounding
# noise (1e-9 in float32, 1e-17 in float64), which Adam's first steps blow up to +-lr/10 in
# one precision and not the other. Starting the GroupNorm weights and biases away from 1 and 0
# makes weight decay, not noise, drive those biases; the gradient comparisons of such a
# fixture use a floor of GRAD_FLOOR times the network's largest gradient norm (the metadata
# grad_floor, which test_golden.c reads too).
GRAD_FLOOR = 1e-3


def variant(cfg):
    """The ablation settings of a config (the release's by default)."""
    return dict(norm=cfg.get('norm', 'adalin'), cam_g=cfg.get('cam_g', True),
                cam_d=cfg.get('cam_d', True))


def snapshot(model, prefix, out):
    """Add every state_dict entry (parameters and u/v buffers) of the six networks."""
    for net_name, net in model.nets().items():
        for k, v in net.state_dict().items():
            out['%s.%s.%s' % (prefix, net_name, k)] = v.detach().clone()


def eval_forwards(model, real_A, real_B):
    """Eval-mode forwards on the current weights; leaves the networks in train mode."""
    res = {}
    before = {n: {k: v.clone() for k, v in net.state_dict().items()}
              for n, net in model.nets().items()}
    model.eval()
    with torch.no_grad():
        for name, x in (('genA2B', real_A), ('genB2A', real_B)):
            img, cam, heat = getattr(model, name)(x)
            res['fwd.%s.image' % name] = img
            if cam is not None:
                res['fwd.%s.cam_logit' % name] = cam
                res['fwd.%s.heatmap' % name] = heat
        for name, x in (('disGA', real_A), ('disLA', real_A), ('disGB', real_B), ('disLB', real_B)):
            logit, cam, heat = getattr(model, name)(x)
            res['fwd.%s.logit' % name] = logit
            if cam is not None:
                res['fwd.%s.cam_logit' % name] = cam
                res['fwd.%s.heatmap' % name] = heat
    model.train()
    # Eval mode must not advance the spectral-norm vectors (or change anything else).
    for n, net in model.nets().items():
        for k, v in net.state_dict().items():
            assert torch.equal(v, before[n][k]), 'eval forward changed %s.%s' % (n, k)
    return res


def load_sample(img_size):
    """The release's test transform: Resize((img, img)) (PIL bilinear), ToTensor, Normalize(0.5, 0.5)."""
    im = Image.open(SAMPLE).convert('RGB')
    # torchvision's Resize on a PIL image is PIL's own resize: on a downscale, BILINEAR is an
    # antialiased triangle filter (support scaled by 256/96), rounded back to uint8.
    im = im.resize((img_size, img_size), Image.BILINEAR)
    x = torch.from_numpy(np.asarray(im, dtype=np.float32).copy()).permute(2, 0, 1)[None]
    x = x / 255.0
    x = (x - 0.5) / 0.5
    return x


def build(cfg, seed=SEED, dtype=torch.float32):
    torch.manual_seed(seed)
    model = ref.UGATIT(ch=cfg['ch'], n_res=cfg['n_res'], img_size=cfg['img_size'],
                       light=cfg['light'], n_layers_global=cfg['n_layers_global'],
                       n_layers_local=cfg['n_layers_local'], **variant(cfg), **TRAIN)
    n, s = cfg['batch'], cfg['img_size']
    real_A = torch.rand(n, 3, s, s) * 2 - 1
    real_B = torch.rand(n, 3, s, s) * 2 - 1
    if cfg.get('nudge_norms'):
        for net in (model.genA2B, model.genB2A):
            for m in net.modules():
                if isinstance(m, nn.GroupNorm):
                    m.weight.data.uniform_(0.8, 1.2)
                    m.bias.data.uniform_(-0.2, 0.2)
    if dtype != torch.float32:
        for net in model.nets().values():
            net.to(dtype)
        real_A, real_B = real_A.to(dtype), real_B.to(dtype)
    return model, real_A, real_B


def rel(a, b, floor=0.0):
    """||a - b|| / max(||b||, floor), 0 when both are zero."""
    a, b = a.double(), b.double()
    n = max(b.norm().item(), floor)
    return (a - b).norm().item() / n if n > 0 else (a - b).norm().item()


def conditioning(cfg, seed):
    """How far float32 PyTorch lands from float64 PyTorch on this seed: the largest
    per-tensor relative error of the step-1 gradients and of the change after two steps.
    A fixture is only a fair yardstick where float32 itself is stable: near-ties in max
    pooling or ReLU inputs at zero make some seeds' gradients depend on rounding."""
    results = []
    for dtype in (torch.float32, torch.float64):
        model, real_A, real_B = build(cfg, seed, dtype)
        init = {n: {k: v.clone() for k, v in net.state_dict().items()}
                for n, net in model.nets().items()}
        r1 = model.train_step(real_A, real_B, capture=True)
        model.train_step(real_A, real_B)
        results.append((init, r1['grads'], {n: net.state_dict() for n, net in model.nets().items()}))
    (i32, g32, s32), (i64, g64, s64) = results
    share = GRAD_FLOOR if cfg.get('nudge_norms') else 0.0
    floor = {n: share * max(v.double().norm().item() for v in g64[n].values()) for n in g64}
    worst_g = max(rel(g32[n][k], g64[n][k], floor[n]) for n in g64 for k in g64[n])
    worst_s = max(rel(s32[n][k] - i64[n][k].to(s32[n][k].dtype), s64[n][k] - i64[n][k])
                  for n in s64 for k in s64[n])
    return worst_g, worst_s


def pick_seed(name, cfg):
    """The first seed whose float32 reference is stable to 2e-5 (gradients) and 1e-3
    (the change after two steps). With nudged norms (gn_nocamd) the gradients of one-channel
    GroupNorms keep up to 5e-5 of float32 rounding on most seeds, so 5e-5 there; the change
    after two steps stays at 1e-3: seed 1, at 1.5e-3, was 6% off in our fast kernels after two
    steps (0.4% with the reference kernels), seeds 8 and 14 0.2%."""
    limits = (5e-5, 1e-3) if cfg.get('nudge_norms') else (2e-5, 1e-3)
    for seed in range(SEED, SEED + 50):
        g, s = conditioning(cfg, seed)
        print('  %s seed %d: float32 vs float64 gradient %.3g, after two steps %.3g'
              % (name, seed, g, s))
        if g < limits[0] and s < limits[1]:
            return seed
    raise SystemExit('no well-conditioned seed found for ' + name)


def make(name, cfg):
    seed = pick_seed(name, cfg)
    model, real_A, real_B = build(cfg, seed)
    out = {}
    snapshot(model, 'init', out)
    out['input.real_A'] = real_A
    out['input.real_B'] = real_B

    fwd = eval_forwards(model, real_A, real_B)
    fwd2 = eval_forwards(model, real_A, real_B)
    for k in fwd:                                          # determinism self-check
        assert torch.equal(fwd[k], fwd2[k]), 'non-deterministic forward: ' + k
    out.update(fwd)

    if cfg['translate']:
        x = load_sample(cfg['img_size'])
        model.eval()
        with torch.no_grad():
            img, _, heat = model.genA2B(x)
        model.train()
        out['translate.input'] = x
        out['translate.genA2B.image'] = img
        out['translate.genA2B.heatmap'] = heat

    r1 = model.train_step(real_A, real_B, capture=True)
    for t in ref.LOSS_TERMS:
        out['step1.loss.' + t] = r1[t]
    for net_name, net in model.nets().items():
        for k, _ in net.named_parameters():
            out['step1.grad.%s.%s' % (net_name, k)] = r1['grads'][net_name][k]
    for k, v in r1['images'].items():
        out['step1.' + k] = v

    r2 = model.train_step(real_A, real_B)
    for t in ref.LOSS_TERMS:
        out['step2.loss.' + t] = r2[t]
    snapshot(model, 'step2.state', out)

    meta = dict(ch=cfg['ch'], n_res=cfg['n_res'], img_size=cfg['img_size'],
                light='true' if cfg['light'] else 'false',
                n_layers_global=cfg['n_layers_global'], n_layers_local=cfg['n_layers_local'],
                batch=cfg['batch'], lr=TRAIN['lr'], weight_decay=TRAIN['weight_decay'],
                adv_weight=TRAIN['adv_weight'], cycle_weight=TRAIN['cycle_weight'],
                identity_weight=TRAIN['identity_weight'], cam_weight=TRAIN['cam_weight'],
                seed=seed, torch=torch.__version__)
    if cfg.get('nudge_norms'):
        meta['grad_floor'] = GRAD_FLOOR
    v = variant(cfg)
    if v != variant({}):
        meta.update(norm=v['norm'], cam_g=str(v['cam_g']).lower(), cam_d=str(v['cam_d']).lower())

    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, name + '.safetensors')
    ref.save_safetensors(path, out, meta)

    # Read back and compare, then report.
    back, meta_back = ref.load_safetensors(path)
    assert set(back) == set(out) and meta_back['ch'] == str(cfg['ch'])
    for k, v in out.items():
        a = v.detach().numpy() if isinstance(v, torch.Tensor) else np.float32(v)
        assert np.array_equal(back[k].reshape(np.shape(a)), a), k

    print('== %s: %s, %d tensors, %d bytes' % (name, path, len(out), os.path.getsize(path)))
    print('  step1 losses:')
    for t in ref.LOSS_TERMS:
        print('    %-20s %.8g' % (t, r1[t]))
    print('  step2 Discriminator_loss %.8g  Generator_loss %.8g'
          % (r2['Discriminator_loss'], r2['Generator_loss']))
    for net_name in ref.NET_NAMES:
        g = r1['grads'][net_name]
        gmax = max(v.abs().max().item() for v in g.values())
        nz = sum(int((v != 0).any()) for v in g.values())
        print('  step1 grad %-6s max|g| %.4g  (%d/%d params with nonzero grad)'
              % (net_name, gmax, nz, len(g)))
    for k in ('fwd.genA2B.image', 'fwd.disGA.logit', 'fwd.disLA.logit', 'fwd.genA2B.cam_logit'):
        if k not in out:
            continue
        print('  %-22s shape %s  range [%.4g, %.4g]'
              % (k, list(out[k].shape), out[k].min().item(), out[k].max().item()))


def main():
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    names = sys.argv[1:] or list(CONFIGS)
    for name in names:
        if name not in CONFIGS:
            raise SystemExit('unknown fixture %s (one of %s)' % (name, ', '.join(CONFIGS)))
        make(name, CONFIGS[name])


if __name__ == '__main__':
    main()
