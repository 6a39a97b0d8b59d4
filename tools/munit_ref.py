"""Our own small PyTorch reference of MUNIT (NVlabs/MUNIT master), written from
shared/reference/baselines-reference.md sections 0, 2 and 4 (not from the official code): two
AdaINGens (style encoder, content encoder, AdaIN decoder, MLP) and two MsImageDis with the
official state_dict names, Kaiming-normal / N(0, 0.02) init, LSGAN summed over scales, image,
style, content and cycle reconstruction losses, Adam (0.5, 0.999) with weight decay 1e-4,
lr_policy step, and one iteration in the official order (dis_update, then gen_update).

The building blocks NVIDIA's networks.py shares with UNIT (Conv2dBlock, the content encoder,
the decoder's up-sampling part, MsImageDis, the init) come from tools/unit_ref.py. The style
codes come from unit_ref.Noise (our C generator on the trainer's seed), so the draws are those
the C trainer makes; with noise_seed None they are torch.randn, as the official code draws them.

Used by tools/make_munit_fixtures.py (golden tests) and bench/bench_torch.py.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

import unit_ref as U

NET_NAMES = ('a.enc_style', 'a.enc_content', 'a', 'b.enc_style', 'b.enc_content', 'b', 'dis_a',
             'dis_b')
LOSS_TERMS = ('dis_a', 'dis_b', 'gen_adv_a', 'gen_adv_b', 'gen_recon_x_a', 'gen_recon_x_b',
              'gen_recon_s_a', 'gen_recon_s_b', 'gen_recon_c_a', 'gen_recon_c_b',
              'gen_cycrecon_x_a', 'gen_cycrecon_x_b', 'dis_total', 'gen_total')


class AdaIN(nn.Module):
    """AdaptiveInstanceNorm2d: biased-variance instance norm, weight and bias set per decode;
    running_mean/var buffers saved but never read."""

    def __init__(self, c, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.register_buffer('running_mean', torch.zeros(c))
        self.register_buffer('running_var', torch.ones(c))
        self.weight = self.bias = None

    def forward(self, x):
        mean = x.mean((2, 3), keepdim=True)
        var = x.var((2, 3), unbiased=False, keepdim=True)
        y = (x - mean) / torch.sqrt(var + self.eps)
        return y * self.weight[:, :, None, None] + self.bias[:, :, None, None]


class AdaINBlock(nn.Module):
    """Conv2dBlock with norm 'adain': reflect pad, conv, AdaIN, activation."""

    def __init__(self, dim, act):
        super().__init__()
        self.pad = nn.ReflectionPad2d(1)
        self.conv = nn.Conv2d(dim, dim, 3, 1, 0, bias=True)
        self.norm = AdaIN(dim)
        self.act = act

    def forward(self, x):
        x = self.norm(self.conv(self.pad(x)))
        return F.relu(x) if self.act == 'relu' else x


class AdaINResBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.model = nn.Sequential(AdaINBlock(dim, 'relu'), AdaINBlock(dim, 'none'))

    def forward(self, x):
        return x + self.model(x)


class AdaINResBlocks(nn.Module):
    def __init__(self, n, dim):
        super().__init__()
        self.model = nn.Sequential(*[AdaINResBlock(dim) for _ in range(n)])

    def forward(self, x):
        return self.model(x)


class Decoder(U.Decoder):
    """UNIT's decoder with AdaIN residual blocks."""

    def __init__(self, dim, n_res):
        super().__init__(dim, n_res)
        self.model[0] = AdaINResBlocks(n_res, dim)


class StyleEncoder(nn.Module):
    """model.0 7x7, model.1-4 4x4 stride 2 (the first two doubling), ReLU, no norm; model.5
    global average pool; model.6 1x1 conv to the style code."""

    def __init__(self, dim, style_dim, n_down=4):
        super().__init__()
        layers = [U.Conv2dBlock(3, dim, 7, 1, 3, 'none')]
        for i in range(n_down):
            out = 2 * dim if i < 2 else dim
            layers.append(U.Conv2dBlock(dim, out, 4, 2, 1, 'none'))
            dim = out
        layers += [nn.AdaptiveAvgPool2d(1), nn.Conv2d(dim, style_dim, 1, 1, 0)]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class LinearBlock(nn.Module):
    def __init__(self, cin, cout, act):
        super().__init__()
        self.fc = nn.Linear(cin, cout, bias=True)
        self.act = act

    def forward(self, x):
        x = self.fc(x)
        return F.relu(x) if self.act == 'relu' else x


class MLP(nn.Module):
    def __init__(self, cin, cout, dim, n_blk=3):
        super().__init__()
        layers = [LinearBlock(cin, dim, 'relu')]
        for _ in range(n_blk - 2):
            layers.append(LinearBlock(dim, dim, 'relu'))
        layers.append(LinearBlock(dim, cout, 'none'))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x.view(x.size(0), -1))


class AdaINGen(nn.Module):
    def __init__(self, dim, style_dim, n_res, mlp_dim):
        super().__init__()
        self.enc_style = StyleEncoder(dim, style_dim)
        self.enc_content = U.Encoder(dim, n_res)
        self.dec = Decoder(self.enc_content.out_dim, n_res)
        self.n_adain = sum(2 * m.running_mean.numel() for m in self.dec.modules()
                           if isinstance(m, AdaIN))
        self.mlp = MLP(style_dim, self.n_adain, mlp_dim)

    def encode(self, x):
        return self.enc_content(x), self.enc_style(x)

    def decode(self, content, style):
        p = self.mlp(style)
        for m in self.dec.modules():  # depth first, registration order
            if isinstance(m, AdaIN):
                c = m.running_mean.numel()
                m.bias = p[:, :c]
                m.weight = p[:, c:2 * c]
                p = p[:, 2 * c:]
        return self.dec(content)


def cancelled_biases(gen):
    """Biases of the convolutions an InstanceNorm or AdaIN follows (notes 0.4)."""
    out = ['enc_content.' + k for k in U.cancelled_biases(gen.enc_content)]
    out += ['dec.%s.conv.bias' % n for n, m in gen.dec.named_modules() if isinstance(m, AdaINBlock)]
    return out


class Part(nn.Module):
    """One of our networks as a view of a generator (its state_dict keys, our groups)."""

    def __init__(self, **mods):
        super().__init__()
        for k, v in mods.items():
            setattr(self, k, v)


class MUNIT:
    def __init__(self, dim=64, style_dim=8, n_res=4, mlp_dim=256, n_layer=4, num_scales=3,
                 lr=1e-4, wd=1e-4, gan_w=1.0, recon_x_w=10.0, recon_s_w=1.0, recon_c_w=1.0,
                 recon_x_cyc_w=0.0, step_size=100000, gamma=0.5, noise_seed=0):
        self.gen_a = AdaINGen(dim, style_dim, n_res, mlp_dim)
        self.gen_b = AdaINGen(dim, style_dim, n_res, mlp_dim)
        self.dis_a = U.MsImageDis(dim, n_layer, num_scales)
        self.dis_b = U.MsImageDis(dim, n_layer, num_scales)
        for n in (self.gen_a, self.gen_b):
            U.weights_init(n, 'kaiming')
        for n in (self.dis_a, self.dis_b):
            U.weights_init(n, 'gaussian')
        self.style_dim = style_dim
        self.w = dict(gan=gan_w, x=recon_x_w, s=recon_s_w, c=recon_c_w, cyc=recon_x_cyc_w)
        gen = list(self.gen_a.parameters()) + list(self.gen_b.parameters())
        dis = list(self.dis_a.parameters()) + list(self.dis_b.parameters())
        self.gen_opt = torch.optim.Adam(gen, lr=lr, betas=(0.5, 0.999), weight_decay=wd)
        self.dis_opt = torch.optim.Adam(dis, lr=lr, betas=(0.5, 0.999), weight_decay=wd)
        self.lr, self.step_size, self.gamma = lr, step_size, gamma
        self.iterations = 0
        self.noise = U.Noise(noise_seed) if noise_seed is not None else None
        self.draws = []  # every style code tensor drawn, in order

    def nets(self):
        """Our networks: name -> (module, state_dict key prefix within it)."""
        out = {}
        for side, g in (('a', self.gen_a), ('b', self.gen_b)):
            out[side + '.enc_style'] = g.enc_style
            out[side + '.enc_content'] = g.enc_content
            out[side] = Part(dec=g.dec, mlp=g.mlp)
        out['dis_a'], out['dis_b'] = self.dis_a, self.dis_b
        return out

    def cancelled(self):
        """Our NET.KEY of every cancelled bias (group a holds dec.*, so the keys line up)."""
        return {'%s.%s' % (side, k) for side, g in (('a', self.gen_a), ('b', self.gen_b))
                for k in cancelled_biases(g)}

    def draw(self, n):
        shape = (n, self.style_dim, 1, 1)
        s = self.noise.normal(shape) if self.noise else torch.randn(shape)
        self.draws.append(s)
        return s

    def _set_lr(self):
        lr = self.lr * self.gamma ** ((self.iterations + 1) // self.step_size)
        for opt in (self.gen_opt, self.dis_opt):
            for g in opt.param_groups:
                g['lr'] = lr

    @staticmethod
    def _grads(net):
        return {k: (p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p))
                for k, p in net.named_parameters()}

    def train_step(self, x_a, x_b, capture=False):
        self._set_lr()
        L, grads = {}, {}
        w = self.w
        n = x_a.size(0)
        # dis_update
        self.dis_opt.zero_grad()
        s_a, s_b = self.draw(n).to(x_a.dtype), self.draw(n).to(x_a.dtype)
        c_a, _ = self.gen_a.encode(x_a)
        c_b, _ = self.gen_b.encode(x_b)
        x_ba = self.gen_a.decode(c_b, s_a)
        x_ab = self.gen_b.decode(c_a, s_b)
        L['dis_a'] = w['gan'] * self.dis_a.dis_loss(x_ba.detach(), x_a)
        L['dis_b'] = w['gan'] * self.dis_b.dis_loss(x_ab.detach(), x_b)
        L['dis_total'] = L['dis_a'] + L['dis_b']
        L['dis_total'].backward()
        if capture:
            grads.update({k: self._grads(self.nets()[k]) for k in ('dis_a', 'dis_b')})
        self.dis_opt.step()
        # gen_update
        self.gen_opt.zero_grad()
        s_a, s_b = self.draw(n).to(x_a.dtype), self.draw(n).to(x_a.dtype)
        c_a, s_a_prime = self.gen_a.encode(x_a)
        c_b, s_b_prime = self.gen_b.encode(x_b)
        x_a_recon = self.gen_a.decode(c_a, s_a_prime)
        x_b_recon = self.gen_b.decode(c_b, s_b_prime)
        x_ba = self.gen_a.decode(c_b, s_a)
        x_ab = self.gen_b.decode(c_a, s_b)
        c_b_recon, s_a_recon = self.gen_a.encode(x_ba)
        c_a_recon, s_b_recon = self.gen_b.encode(x_ab)
        l1 = lambda a, b: torch.mean(torch.abs(a - b))  # noqa: E731
        L['gen_adv_a'] = w['gan'] * self.dis_a.gen_loss(x_ba)
        L['gen_adv_b'] = w['gan'] * self.dis_b.gen_loss(x_ab)
        L['gen_recon_x_a'] = w['x'] * l1(x_a_recon, x_a)
        L['gen_recon_x_b'] = w['x'] * l1(x_b_recon, x_b)
        L['gen_recon_s_a'] = w['s'] * l1(s_a_recon, s_a)
        L['gen_recon_s_b'] = w['s'] * l1(s_b_recon, s_b)
        L['gen_recon_c_a'] = w['c'] * l1(c_a_recon, c_a)
        L['gen_recon_c_b'] = w['c'] * l1(c_b_recon, c_b)
        if w['cyc'] > 0:
            x_aba = self.gen_a.decode(c_a_recon, s_a_prime)
            x_bab = self.gen_b.decode(c_b_recon, s_b_prime)
            L['gen_cycrecon_x_a'] = w['cyc'] * l1(x_aba, x_a)
            L['gen_cycrecon_x_b'] = w['cyc'] * l1(x_bab, x_b)
        else:
            L['gen_cycrecon_x_a'] = L['gen_cycrecon_x_b'] = torch.zeros(())
        L['gen_total'] = sum(L[k] for k in LOSS_TERMS[2:12])
        L['gen_total'].backward()
        if capture:
            grads.update({k: self._grads(self.nets()[k]) for k in NET_NAMES[:6]})
        self.gen_opt.step()
        self.iterations += 1
        out = {k: float(v) for k, v in L.items()}
        if capture:
            out['grads'] = grads
        return out

    def translate(self, x, style, a2b=True):
        src, dst = (self.gen_a, self.gen_b) if a2b else (self.gen_b, self.gen_a)
        return dst.decode(src.encode(x)[0], style)

    def style_of(self, x, a2b=True):
        """The style code of an example image of a2b's target domain."""
        return (self.gen_b if a2b else self.gen_a).enc_style(x)
