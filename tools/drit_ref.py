"""Our own small PyTorch reference of DRIT (HsinYingLee/DRIT master, --concat 1, mode seeking
on), written from shared/reference/baselines-reference.md sections 0 and 5 (not from the
official code): the content encoder with its shared block and Gaussian noise, the VAE attribute
encoder, the concatenation generator with its shared block, four multi-scale discriminators and
the content discriminator, with the official module names (so state_dict keys); init N(0, 0.02)
on every Conv* weight, PyTorch defaults elsewhere; sigmoid + BCE losses; eight Adam optimisers
(0.5, 0.999), weight decay 1e-4, lr 1e-4 (content D 1e-4 / 2.5); one iteration in the official
order: a content-only iteration (update_D_content) or a full one (forward, update_D, update_EG).

The base channel count ch (64 in the official code) is a parameter so that tests can be small.

The second generator update (backward_G_alone) of the official code reuses the graph of
forward() after the first update changed the weights, which PyTorch 0.4 allowed (old activations,
new weights) and current PyTorch refuses. This reference, like the C trainer, RECOMPUTES what
that update needs after the first update's step: the content codes of the real images (with the
same noise draws), the random-attribute decodes (the same z_random, z_random2) and the attribute
means of the decodes, all with the updated weights.

Random draws (content noise, the reparameterisation's eps, z_random, z_random2) come from Noise:
our C generator (src/core/rng.c) on the trainer's seed and the drit stream, in the official
order, so the C trainer replays them; with noise_seed None from torch.randn, as the official
code draws them (the benchmark: Noise is pure Python and slow at 216).

Used by tools/make_drit_fixtures.py (golden tests).
"""

import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unit_ref import Noise  # noqa: E402

NET_NAMES = ('enc_c', 'enc_a', 'gen', 'disA', 'disA2', 'disB', 'disB2', 'disContent')
LOSS_TERMS = ('disA', 'disA2', 'disB', 'disB2', 'disContent', 'gan_A_content', 'gan_B_content',
              'gan_A', 'gan_B', 'kl_za_a', 'kl_za_b', 'kl_zc_a', 'kl_zc_b', 'l1_cc_a',
              'l1_cc_b', 'l1_self_a', 'l1_self_b', 'gan2_A', 'gan2_B', 'gan2_A2', 'gan2_B2',
              'z_l1_a', 'z_l1_b', 'lz_AB', 'lz_BA', 'dis_total', 'gen_total')
NOISE_STREAM = 0x64726974  # "drit" (src/model/drit/state.c)
NZ = 8


class LeakyReLUConv2d(nn.Module):
    """model = [ReflectionPad2d(p), Conv2d, LeakyReLU 0.01]; no norm, whatever is asked."""

    def __init__(self, cin, cout, k, s, p):
        super().__init__()
        self.model = nn.Sequential(nn.ReflectionPad2d(p), nn.Conv2d(cin, cout, k, s, 0),
                                   nn.LeakyReLU(0.01))

    def forward(self, x):
        return self.model(x)


class ReLUINSConv2d(nn.Module):
    def __init__(self, cin, cout, k, s, p):
        super().__init__()
        self.model = nn.Sequential(nn.ReflectionPad2d(p), nn.Conv2d(cin, cout, k, s, 0),
                                   nn.InstanceNorm2d(cout, affine=False), nn.ReLU())

    def forward(self, x):
        return self.model(x)


class INSResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.model = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c),
                                   nn.ReLU(), nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3),
                                   nn.InstanceNorm2d(c))

    def forward(self, x):
        return self.model(x) + x


class LayerNorm(nn.Module):
    """DRIT's: F.layer_norm over (C, H, W), then weight/bias [C, 1, 1]."""

    def __init__(self, c, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(c, 1, 1))
        self.bias = nn.Parameter(torch.zeros(c, 1, 1))

    def forward(self, x):
        y = F.layer_norm(x, x.shape[1:], eps=self.eps)
        return y * self.weight.expand_as(y) + self.bias.expand_as(y)


class ReLUINSConvTranspose2d(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.model = nn.Sequential(nn.ConvTranspose2d(cin, cout, 3, 2, 1, 1), LayerNorm(cout),
                                   nn.ReLU())

    def forward(self, x):
        return self.model(x)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Sequential(nn.LeakyReLU(0.2), nn.ReflectionPad2d(1), nn.Conv2d(cin, cin, 3),
                                  nn.LeakyReLU(0.2),
                                  nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(cin, cout, 3),
                                                nn.AvgPool2d(2, 2)))
        self.shortcut = nn.Sequential(nn.AvgPool2d(2, 2), nn.Conv2d(cin, cout, 1))

    def forward(self, x):
        return self.conv(x) + self.shortcut(x)


class EContent(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv_share = nn.Sequential(INSResBlock(4 * ch))
        for d in 'AB':
            setattr(self, 'conv' + d, nn.Sequential(
                LeakyReLUConv2d(3, ch, 7, 1, 3), ReLUINSConv2d(ch, 2 * ch, 3, 2, 1),
                ReLUINSConv2d(2 * ch, 4 * ch, 3, 2, 1), INSResBlock(4 * ch), INSResBlock(4 * ch),
                INSResBlock(4 * ch)))

    def forward_a(self, x, noise):
        y = self.conv_share(self.convA(x))
        return y + noise if noise is not None else y

    def forward_b(self, x, noise):
        y = self.conv_share(self.convB(x))
        return y + noise if noise is not None else y


class EAttrConcat(nn.Module):
    def __init__(self, ch):
        super().__init__()
        for d in 'AB':
            setattr(self, 'fc_' + d, nn.Sequential(nn.Linear(4 * ch, NZ)))
            setattr(self, 'fcVar_' + d, nn.Sequential(nn.Linear(4 * ch, NZ)))
            setattr(self, 'conv_' + d, nn.Sequential(
                nn.ReflectionPad2d(1), nn.Conv2d(3, ch, 4, 2, 0), BasicBlock(ch, 2 * ch),
                BasicBlock(2 * ch, 3 * ch), BasicBlock(3 * ch, 4 * ch), nn.LeakyReLU(0.2),
                nn.AdaptiveAvgPool2d(1)))

    def forward_d(self, x, d):
        flat = getattr(self, 'conv_' + d)(x).flatten(1)
        return getattr(self, 'fc_' + d)(flat), getattr(self, 'fcVar_' + d)(flat)


def tile_cat(x, z):
    return torch.cat([x, z.view(z.size(0), z.size(1), 1, 1).expand(-1, -1, x.size(2), x.size(3))],
                     1)


class GConcat(nn.Module):
    def __init__(self, ch):
        super().__init__()
        c = 4 * ch
        self.dec_share = nn.Sequential(INSResBlock(c))
        c1 = c + NZ
        c2 = (c1 + NZ) // 2
        c3 = (c2 + NZ) // 2
        for d in 'AB':
            setattr(self, 'dec%s1' % d, nn.Sequential(INSResBlock(c1), INSResBlock(c1),
                                                      INSResBlock(c1)))
            setattr(self, 'dec%s2' % d, nn.Sequential(ReLUINSConvTranspose2d(c1 + NZ, c2)))
            setattr(self, 'dec%s3' % d, nn.Sequential(ReLUINSConvTranspose2d(c2 + NZ, c3)))
            setattr(self, 'dec%s4' % d, nn.Sequential(nn.ConvTranspose2d(c3 + NZ, 3, 1, 1, 0),
                                                      nn.Tanh()))

    def forward_d(self, x, z, d):
        o = tile_cat(self.dec_share(x), z)
        o = getattr(self, 'dec%s1' % d)(o)
        o = getattr(self, 'dec%s2' % d)(tile_cat(o, z))
        o = getattr(self, 'dec%s3' % d)(tile_cat(o, z))
        return getattr(self, 'dec%s4' % d)(tile_cat(o, z))


class MultiScaleDis(nn.Module):
    def __init__(self, ch, n_scale=3, n_layer=4):
        super().__init__()
        self.Diss = nn.ModuleList()
        for _ in range(n_scale):
            layers, cin, d = [], 3, ch
            for _ in range(n_layer):
                layers.append(LeakyReLUConv2d(cin, d, 4, 2, 1))
                cin, d = d, d * 2
            layers.append(nn.Conv2d(cin, 1, 1, 1, 0))
            self.Diss.append(nn.Sequential(*layers))

    def forward(self, x):
        outs = []
        for dis in self.Diss:
            outs.append(dis(x))
            x = F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)
        return outs


class DisContent(nn.Module):
    def __init__(self, ch):
        super().__init__()
        c = 4 * ch
        self.model = nn.Sequential(LeakyReLUConv2d(c, c, 7, 2, 1), LeakyReLUConv2d(c, c, 7, 2, 1),
                                   LeakyReLUConv2d(c, c, 7, 2, 1), LeakyReLUConv2d(c, c, 4, 1, 0),
                                   nn.Conv2d(c, 1, 1, 1, 0))

    def forward(self, x):
        return [self.model(x).view(-1)]


def gaussian_weights_init(net, std=0.02):
    for m in net.modules():
        if type(m).__name__.startswith('Conv'):
            nn.init.normal_(m.weight, 0.0, std)


def bce(x, t):
    p = torch.sigmoid(x)
    return F.binary_cross_entropy(p, torch.full_like(p, t))


def cancelled_biases(net):
    """Biases of the convolutions an InstanceNorm follows: exact gradient 0 (notes 0.4)."""
    out = []
    for name, m in net.named_modules():
        if isinstance(m, nn.Sequential):
            mods = list(m.children())
            for i in range(len(mods) - 1):
                if isinstance(mods[i], nn.Conv2d) and isinstance(mods[i + 1], nn.InstanceNorm2d):
                    out.append('%s.%d.bias' % (name, i) if name else '%d.bias' % i)
    return out


class DRIT:
    def __init__(self, ch=64, dis_scale=3, lr=1e-4, wd=1e-4, no_ms=False, noise_seed=0,
                 init_std=0.02):
        self.enc_c, self.enc_a, self.gen = EContent(ch), EAttrConcat(ch), GConcat(ch)
        self.disA, self.disA2 = MultiScaleDis(ch, dis_scale), MultiScaleDis(ch, dis_scale)
        self.disB, self.disB2 = MultiScaleDis(ch, dis_scale), MultiScaleDis(ch, dis_scale)
        self.disContent = DisContent(ch)
        for n in self.nets().values():
            gaussian_weights_init(n, init_std)
        self.no_ms = no_ms
        self.lr = {n: (lr / 2.5 if n == 'disContent' else lr) for n in NET_NAMES}
        self.opt = {n: torch.optim.Adam(net.parameters(), lr=self.lr[n], betas=(0.5, 0.999),
                                        weight_decay=wd) for n, net in self.nets().items()}
        self.noise = Noise(noise_seed, NOISE_STREAM) if noise_seed is not None else None
        self.draws = []
        self.ch = ch

    def nets(self):
        return {n: getattr(self, n) for n in NET_NAMES}

    def set_lr_factor(self, f):
        for n, o in self.opt.items():
            for g in o.param_groups:
                g['lr'] = self.lr[n] * f

    def draw(self, shape, dtype):
        n = (self.noise.normal(shape).to(dtype) if self.noise
             else torch.randn(shape, dtype=dtype))
        self.draws.append(n)
        return n

    def content(self, a, b):
        s = (1, 4 * self.ch, a.size(2) // 4, a.size(3) // 4)
        na, nb = self.draw(s, a.dtype), self.draw(s, a.dtype)
        return na, nb

    def translate(self, x, z, a2b=True):
        """Evaluation mode: no content noise; z the attribute code (1 x 8)."""
        if a2b:
            return self.gen.forward_d(self.enc_c.forward_a(x, None), z, 'B')
        return self.gen.forward_d(self.enc_c.forward_b(x, None), z, 'A')

    @staticmethod
    def _grads(net):
        return {k: (p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p))
                for k, p in net.named_parameters()}

    def _dis_content_step(self, za, zb, L):
        o = self.opt['disContent']
        o.zero_grad()
        pf, pr = self.disContent(za.detach())[0], self.disContent(zb.detach())[0]
        L['disContent'] = bce(pf, 0.0) + bce(pr, 1.0)
        L['disContent'].backward()
        nn.utils.clip_grad_norm_(self.disContent.parameters(), 5)
        grads = self._grads(self.disContent)
        o.step()
        return grads

    def content_step(self, A, B):
        """update_D_content: the content codes of the encoded samples, the content D step."""
        A0, B0 = A[0:1], B[0:1]
        na, nb = self.content(A0, B0)
        za, zb = self.enc_c.forward_a(A0, na), self.enc_c.forward_b(B0, nb)
        L = {}
        self._dis_content_step(za, zb, L)
        return {k: float(v) for k, v in L.items()}

    def full_step(self, A, B, capture=False):
        L, grads = {}, {}
        ms = not self.no_ms
        A0, A1, B0, B1 = A[0:1], A[1:2], B[0:1], B[1:2]
        dt = A.dtype
        # forward()
        na, nb = self.content(A0, B0)
        zca, zcb = self.enc_c.forward_a(A0, na), self.enc_c.forward_b(B0, nb)
        mu_a, lv_a = self.enc_a.forward_d(A0, 'A')
        mu_b, lv_b = self.enc_a.forward_d(B0, 'B')
        eps_a, eps_b = self.draw((1, NZ), dt), self.draw((1, NZ), dt)
        za = mu_a + eps_a * torch.exp(0.5 * lv_a)
        zb = mu_b + eps_b * torch.exp(0.5 * lv_b)
        zr = self.draw((1, NZ), dt)
        zr2 = self.draw((1, NZ), dt) if ms else None
        zs_a = [za, za, zr] + ([zr2] if ms else [])
        zs_b = [zb, zb, zr] + ([zr2] if ms else [])
        cs_a = [zcb, zca, zcb] + ([zcb] if ms else [])
        cs_b = [zca, zcb, zca] + ([zca] if ms else [])
        outA = self.gen.forward_d(torch.cat(cs_a), torch.cat(zs_a), 'A')
        outB = self.gen.forward_d(torch.cat(cs_b), torch.cat(zs_b), 'B')
        fA, fAA, fAr = outA[0:1], outA[1:2], outA[2:3]
        fB, fBB, fBr = outB[0:1], outB[1:2], outB[2:3]
        fAr2, fBr2 = (outA[3:4], outB[3:4]) if ms else (None, None)
        nra, nrb = self.content(fA, fB)
        zc_rb, zc_ra = self.enc_c.forward_a(fA, nra), self.enc_c.forward_b(fB, nrb)
        mu_ra, lv_ra = self.enc_a.forward_d(fA, 'A')
        mu_rb, lv_rb = self.enc_a.forward_d(fB, 'B')
        eps_ra, eps_rb = self.draw((1, NZ), dt), self.draw((1, NZ), dt)
        z_ra = mu_ra + eps_ra * torch.exp(0.5 * lv_ra)
        z_rb = mu_rb + eps_rb * torch.exp(0.5 * lv_rb)
        fA_recon = self.gen.forward_d(zc_ra, z_ra, 'A')
        fB_recon = self.gen.forward_d(zc_rb, z_rb, 'B')
        self.fwd = dict(content_a=zca, content_b=zcb, mu_a=mu_a, logvar_a=lv_a, mu_b=mu_b,
                        logvar_b=lv_b, fake_A_encoded=fA, fake_B_encoded=fB,
                        fake_A_recon=fA_recon, fake_B_recon=fB_recon)
        # update_D
        for n, real, fake, fake2 in (('disA', A0, fA, None), ('disA2', A1, fAr, fAr2),
                                     ('disB', B0, fB, None), ('disB2', B1, fBr, fBr2)):
            net, o = self.nets()[n], self.opt[n]
            o.zero_grad()
            total = 0.0
            for f in (fake, fake2):
                if f is None:
                    continue
                loss = sum(bce(pf, 0.0) + bce(pr, 1.0)
                           for pf, pr in zip(net(f.detach()), net(real)))
                loss.backward()
                total = total + loss
            L[n] = total
            if capture:
                grads[n] = self._grads(net)
            o.step()
        g = self._dis_content_step(zca, zcb, L)
        if capture:
            grads['disContent'] = g
        L['dis_total'] = L['disA'] + L['disA2'] + L['disB'] + L['disB2'] + L['disContent']
        # update_EG, phase 1 (backward_EG)
        for n in ('enc_c', 'enc_a', 'gen'):
            self.opt[n].zero_grad()
        L['gan_A_content'] = bce(self.disContent(zca)[0], 0.5)
        L['gan_B_content'] = bce(self.disContent(zcb)[0], 0.5)
        L['gan_A'] = sum(bce(o, 1.0) for o in self.disA(fA))
        L['gan_B'] = sum(bce(o, 1.0) for o in self.disB(fB))
        kl = lambda mu, lv: torch.sum(1 + lv - mu.pow(2) - lv.exp()) * -0.5 * 0.01  # noqa: E731
        L['kl_za_a'], L['kl_za_b'] = kl(mu_a, lv_a), kl(mu_b, lv_b)
        L['kl_zc_a'] = torch.mean(zca ** 2) * 0.01
        L['kl_zc_b'] = torch.mean(zcb ** 2) * 0.01
        l1 = lambda a, b: torch.mean(torch.abs(a - b))  # noqa: E731
        L['l1_cc_a'], L['l1_cc_b'] = 10 * l1(fA_recon, A0), 10 * l1(fB_recon, B0)
        L['l1_self_a'], L['l1_self_b'] = 10 * l1(fAA, A0), 10 * l1(fBB, B0)
        g1 = sum(L[k] for k in LOSS_TERMS[5:17])
        g1.backward()
        if capture:
            grads['enc_a'] = self._grads(self.enc_a)
        for n in ('enc_c', 'enc_a', 'gen'):
            self.opt[n].step()
        # phase 2 (backward_G_alone), recomputed with the updated weights
        for n in ('enc_c', 'gen'):
            self.opt[n].zero_grad()
        zca2, zcb2 = self.enc_c.forward_a(A0, na), self.enc_c.forward_b(B0, nb)
        zs = torch.cat([zr, zr2]) if ms else zr
        fAr_all = self.gen.forward_d(torch.cat([zcb2] * zs.size(0)), zs, 'A')
        fBr_all = self.gen.forward_d(torch.cat([zca2] * zs.size(0)), zs, 'B')
        fAr, fBr = fAr_all[0:1], fBr_all[0:1]
        mu2_a, _ = self.enc_a.forward_d(fAr, 'A')
        mu2_b, _ = self.enc_a.forward_d(fBr, 'B')
        L['gan2_A'] = sum(bce(o, 1.0) for o in self.disA2(fAr))
        L['gan2_B'] = sum(bce(o, 1.0) for o in self.disB2(fBr))
        L['z_l1_a'] = 10 * l1(mu2_a, zr)
        L['z_l1_b'] = 10 * l1(mu2_b, zr)
        g2 = L['gan2_A'] + L['gan2_B'] + L['z_l1_a'] + L['z_l1_b']
        if ms:
            fAr2, fBr2 = fAr_all[1:2], fBr_all[1:2]
            L['gan2_A2'] = sum(bce(o, 1.0) for o in self.disA2(fAr2))
            L['gan2_B2'] = sum(bce(o, 1.0) for o in self.disB2(fBr2))
            dz = l1(zr2, zr)
            L['lz_AB'] = 1 / (l1(fBr2, fBr) / dz + 1e-5)
            L['lz_BA'] = 1 / (l1(fAr2, fAr) / dz + 1e-5)
            g2 = g2 + L['gan2_A2'] + L['gan2_B2'] + L['lz_AB'] + L['lz_BA']
        else:
            for k in ('gan2_A2', 'gan2_B2', 'lz_AB', 'lz_BA'):
                L[k] = torch.zeros(())
        g2.backward()
        if capture:
            grads['phase2'] = {n: self._grads(self.nets()[n]) for n in ('enc_c', 'gen')}
        for n in ('enc_c', 'gen'):
            self.opt[n].step()
        L['gen_total'] = g1 + g2
        out = {k: float(v) for k, v in L.items()}
        if capture:
            out['grads'] = grads
        return out
