"""Our own small PyTorch reference of UNIT (the official master branch), written from
shared/reference/baselines-reference.md sections 0, 2 and 3 (not from the official code): two
VAEGens (encoder, decoder) and two MsImageDis with the official state_dict names, NVIDIA's
LayerNorm, Kaiming-normal / N(0, 0.02) init, LSGAN summed over scales, image / KL / cycle
losses, Adam (0.5, 0.999) with weight decay 1e-4, lr_policy step, and one iteration in the
official order (dis_update, then gen_update).

The latent noise comes from Noise: our C generator (src/core/rng.c, PCG32 and Box-Muller) on
the trainer's seed and the unit stream, so the draws are those the C trainer makes; with
noise_seed None it is torch.randn, as the official code draws it (the benchmark: Noise is
pure Python and slow at 256).

Used by tools/make_unit_fixtures.py (golden tests).
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

NET_NAMES = ('a.enc', 'a.dec', 'b.enc', 'b.dec', 'dis_a', 'dis_b')
LOSS_TERMS = ('dis_a', 'dis_b', 'gen_adv_a', 'gen_adv_b', 'gen_recon_x_a', 'gen_recon_x_b',
              'gen_recon_kl_a', 'gen_recon_kl_b', 'gen_cyc_x_a', 'gen_cyc_x_b',
              'gen_recon_kl_cyc_aba', 'gen_recon_kl_cyc_bab', 'dis_total', 'gen_total')
NOISE_STREAM = 0x756e6974  # "unit" (src/model/unit/noise.c)
M64 = (1 << 64) - 1


class Noise:
    """PCG32 (ug_rng_seed, ug_rng_u32) and ug_rng_normal, element by element."""

    def __init__(self, seed, stream=NOISE_STREAM):
        self.state, self.inc = 0, ((stream << 1) | 1) & M64
        self._u32()
        self.state = (self.state + seed) & M64
        self._u32()

    def _u32(self):
        old = self.state
        self.state = (old * 6364136223846793005 + self.inc) & M64
        xs = (((old >> 18) ^ old) >> 27) & 0xffffffff
        rot = old >> 59
        return ((xs >> rot) | (xs << ((-rot) & 31))) & 0xffffffff

    def _uniform(self):
        hi, lo = self._u32() >> 5, self._u32() >> 6
        return (hi * 67108864.0 + lo) / 9007199254740992.0

    def normal(self, shape):
        n = math.prod(shape)
        out = []
        for _ in range(n):
            u1, u2 = self._uniform(), self._uniform()
            u1 = max(u1, 1e-300)
            out.append(math.sqrt(-2.0 * math.log(u1)) * math.cos(6.283185307179586 * u2))
        return torch.tensor(out, dtype=torch.float32).reshape(shape)


class LayerNorm(nn.Module):
    """NVIDIA's: per sample over C, H, W; unbiased std; eps added to the std; gamma U[0, 1)."""

    def __init__(self, c, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.gamma = nn.Parameter(torch.empty(c).uniform_())
        self.beta = nn.Parameter(torch.zeros(c))

    def forward(self, x):
        flat = x.reshape(x.size(0), -1)
        mean = flat.mean(1).view(-1, 1, 1, 1)
        std = flat.std(1, unbiased=True).view(-1, 1, 1, 1)
        y = (x - mean) / (std + self.eps)
        return y * self.gamma.view(1, -1, 1, 1) + self.beta.view(1, -1, 1, 1)


class Conv2dBlock(nn.Module):
    """Reflection pad, conv (bias always), norm, activation: keys conv.*, norm.*."""

    def __init__(self, cin, cout, k, s, p, norm='none', act='relu'):
        super().__init__()
        self.pad = nn.ReflectionPad2d(p)
        self.conv = nn.Conv2d(cin, cout, k, s, 0, bias=True)
        self.norm = {'in': lambda: nn.InstanceNorm2d(cout, eps=1e-5), 'ln': lambda: LayerNorm(cout),
                     'none': lambda: None}[norm]()
        self.act = act

    def forward(self, x):
        x = self.conv(self.pad(x))
        if self.norm is not None:
            x = self.norm(x)
        if self.act == 'relu':
            x = F.relu(x)
        elif self.act == 'lrelu':
            x = F.leaky_relu(x, 0.2)
        elif self.act == 'tanh':
            x = torch.tanh(x)
        return x


class ResBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.model = nn.Sequential(Conv2dBlock(dim, dim, 3, 1, 1, 'in', 'relu'),
                                   Conv2dBlock(dim, dim, 3, 1, 1, 'in', 'none'))

    def forward(self, x):
        return x + self.model(x)


class ResBlocks(nn.Module):
    def __init__(self, n, dim):
        super().__init__()
        self.model = nn.Sequential(*[ResBlock(dim) for _ in range(n)])

    def forward(self, x):
        return self.model(x)


class Encoder(nn.Module):
    """model.0 7x7, model.1-2 4x4 stride 2 (IN, ReLU), model.3 ResBlocks."""

    def __init__(self, dim, n_res, n_down=2):
        super().__init__()
        layers = [Conv2dBlock(3, dim, 7, 1, 3, 'in')]
        for _ in range(n_down):
            layers.append(Conv2dBlock(dim, 2 * dim, 4, 2, 1, 'in'))
            dim *= 2
        layers.append(ResBlocks(n_res, dim))
        self.model = nn.Sequential(*layers)
        self.out_dim = dim

    def forward(self, x):
        return self.model(x)


class Decoder(nn.Module):
    """model.0 ResBlocks, then (nearest x2, 5x5 conv, LN, ReLU) twice, then 7x7 conv to tanh."""

    def __init__(self, dim, n_res, n_up=2):
        super().__init__()
        layers = [ResBlocks(n_res, dim)]
        for _ in range(n_up):
            layers += [nn.Upsample(scale_factor=2), Conv2dBlock(dim, dim // 2, 5, 1, 2, 'ln')]
            dim //= 2
        layers.append(Conv2dBlock(dim, 3, 7, 1, 3, 'none', 'tanh'))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class MsImageDis(nn.Module):
    """cnns.S: n_layer 4x4 stride-2 Conv2dBlocks (reflect 1, LeakyReLU 0.2), a 1x1 conv; AvgPool2d
    (3, 2, 1, count_include_pad=False) between scales."""

    def __init__(self, dim, n_layer, num_scales):
        super().__init__()
        self.cnns = nn.ModuleList()
        for _ in range(num_scales):
            d, layers, cin = dim, [], 3
            for _ in range(n_layer):
                layers.append(Conv2dBlock(cin, d, 4, 2, 1, 'none', 'lrelu'))
                cin, d = d, d * 2
            layers.append(nn.Conv2d(cin, 1, 1, 1, 0))
            self.cnns.append(nn.Sequential(*layers))

    def forward(self, x):
        outs = []
        for cnn in self.cnns:
            outs.append(cnn(x))
            x = F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)
        return outs

    def dis_loss(self, fake, real):
        return sum(torch.mean(f ** 2) + torch.mean((r - 1) ** 2)
                   for f, r in zip(self(fake), self(real)))

    def gen_loss(self, fake):
        return sum(torch.mean((f - 1) ** 2) for f in self(fake))


def weights_init(net, kind):
    """utils.weights_init: modules named Conv*/Linear* with a weight; biases 0."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            if kind == 'kaiming':
                nn.init.kaiming_normal_(m.weight, a=0, mode='fan_in')
            else:
                nn.init.normal_(m.weight, 0.0, 0.02)
            nn.init.zeros_(m.bias)


def cancelled_biases(net):
    """Biases of the convolutions an InstanceNorm follows: exact gradient 0 (notes 0.4)."""
    return ['%s.conv.bias' % n for n, m in net.named_modules()
            if isinstance(m, Conv2dBlock) and isinstance(m.norm, nn.InstanceNorm2d)]


class UNIT:
    def __init__(self, dim=64, n_res=4, n_layer=4, num_scales=3, lr=1e-4, wd=1e-4, gan_w=1.0,
                 recon_x_w=10.0, recon_kl_w=0.01, recon_x_cyc_w=10.0, recon_kl_cyc_w=0.01,
                 step_size=100000, gamma=0.5, noise_seed=0):
        self.enc_a, self.dec_a = Encoder(dim, n_res), Decoder(4 * dim, n_res)
        self.enc_b, self.dec_b = Encoder(dim, n_res), Decoder(4 * dim, n_res)
        self.dis_a = MsImageDis(dim, n_layer, num_scales)
        self.dis_b = MsImageDis(dim, n_layer, num_scales)
        for n in (self.enc_a, self.dec_a, self.enc_b, self.dec_b):
            weights_init(n, 'kaiming')
        for n in (self.dis_a, self.dis_b):
            weights_init(n, 'gaussian')
        self.w = dict(gan=gan_w, x=recon_x_w, kl=recon_kl_w, cyc=recon_x_cyc_w,
                      kl_cyc=recon_kl_cyc_w)
        gen = [p for n in (self.enc_a, self.dec_a, self.enc_b, self.dec_b) for p in n.parameters()]
        dis = list(self.dis_a.parameters()) + list(self.dis_b.parameters())
        self.gen_opt = torch.optim.Adam(gen, lr=lr, betas=(0.5, 0.999), weight_decay=wd)
        self.dis_opt = torch.optim.Adam(dis, lr=lr, betas=(0.5, 0.999), weight_decay=wd)
        self.lr, self.step_size, self.gamma = lr, step_size, gamma
        self.iterations = 0
        self.noise = Noise(noise_seed) if noise_seed is not None else None
        self.draws = []  # every noise tensor drawn, in order

    def nets(self):
        return dict(zip(NET_NAMES, (self.enc_a, self.dec_a, self.enc_b, self.dec_b, self.dis_a,
                                    self.dis_b)))

    def encode(self, enc, x):
        h = enc(x)
        n = (self.noise.normal(tuple(h.shape)).to(h.dtype) if self.noise
             else torch.randn(h.shape, dtype=h.dtype))
        self.draws.append(n)
        return h, n

    def translate(self, x, a2b=True):
        enc, dec = (self.enc_a, self.dec_b) if a2b else (self.enc_b, self.dec_a)
        return dec(enc(x))

    def _set_lr(self):
        # StepLR stepped before the updates: iteration i runs at gamma^floor((i + 1) / step_size).
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
        # dis_update
        self.dis_opt.zero_grad()
        h_a, n_a = self.encode(self.enc_a, x_a)
        h_b, n_b = self.encode(self.enc_b, x_b)
        x_ba = self.dec_a(h_b + n_b)
        x_ab = self.dec_b(h_a + n_a)
        L['dis_a'] = w['gan'] * self.dis_a.dis_loss(x_ba.detach(), x_a)
        L['dis_b'] = w['gan'] * self.dis_b.dis_loss(x_ab.detach(), x_b)
        L['dis_total'] = L['dis_a'] + L['dis_b']
        L['dis_total'].backward()
        if capture:
            grads.update({n: self._grads(self.nets()[n]) for n in ('dis_a', 'dis_b')})
        self.dis_opt.step()
        # gen_update
        self.gen_opt.zero_grad()
        h_a, n_a = self.encode(self.enc_a, x_a)
        h_b, n_b = self.encode(self.enc_b, x_b)
        x_a_recon = self.dec_a(h_a + n_a)
        x_b_recon = self.dec_b(h_b + n_b)
        x_ba = self.dec_a(h_b + n_b)
        x_ab = self.dec_b(h_a + n_a)
        h_b_recon, n_b_recon = self.encode(self.enc_a, x_ba)
        h_a_recon, n_a_recon = self.encode(self.enc_b, x_ab)
        x_aba = self.dec_a(h_a_recon + n_a_recon)
        x_bab = self.dec_b(h_b_recon + n_b_recon)
        kl = lambda mu: torch.mean(mu ** 2)  # noqa: E731
        l1 = lambda a, b: torch.mean(torch.abs(a - b))  # noqa: E731
        L['gen_adv_a'] = w['gan'] * self.dis_a.gen_loss(x_ba)
        L['gen_adv_b'] = w['gan'] * self.dis_b.gen_loss(x_ab)
        L['gen_recon_x_a'] = w['x'] * l1(x_a_recon, x_a)
        L['gen_recon_x_b'] = w['x'] * l1(x_b_recon, x_b)
        L['gen_recon_kl_a'] = w['kl'] * kl(h_a)
        L['gen_recon_kl_b'] = w['kl'] * kl(h_b)
        L['gen_cyc_x_a'] = w['cyc'] * l1(x_aba, x_a)
        L['gen_cyc_x_b'] = w['cyc'] * l1(x_bab, x_b)
        L['gen_recon_kl_cyc_aba'] = w['kl_cyc'] * kl(h_a_recon)
        L['gen_recon_kl_cyc_bab'] = w['kl_cyc'] * kl(h_b_recon)
        L['gen_total'] = sum(L[k] for k in LOSS_TERMS[2:12])
        L['gen_total'].backward()
        if capture:
            grads.update({n: self._grads(self.nets()[n]) for n in NET_NAMES[:4]})
        self.gen_opt.step()
        self.iterations += 1
        out = {k: float(v) for k, v in L.items()}
        if capture:
            out['grads'] = grads
        return out
