"""Small PyTorch reference of U-GAT-IT, written from shared/reference/ugatit-reference.md.

This is the numerical oracle for the C implementation: tools/make_fixtures.py uses it to write
the golden safetensors files under tests/fixtures/. It is NOT the authors' code; it follows the
reference notes, including the release's quirks:

  * InstanceNorm in the encoder: no affine, biased variance (divide by H*W), eps 1e-5.
  * adaILN / ILN: UNBIASED variances (torch.var default) over [2,3] and over [1,2,3].
  * Discriminator CAM: logits use the spectrally-normalised gap_fc/gmp_fc, but the per-channel
    re-weighting of the feature maps uses the raw `weight_orig` parameter.
  * Spectral norm is torch.nn.utils.spectral_norm (1 power iteration per training-mode call),
    so the call order of the discriminators in a training step matters.
  * Adam with L2 weight decay (torch.optim.Adam's weight_decay, added to the gradient).
  * After the generator step, every rho (adaILN and ILN) is clamped into [0, 1].

Module, parameter and buffer names match the release's state_dict exactly (see
shared/reference/official-state-dict-keys.txt), so a release checkpoint loads with
load_state_dict and our fixtures use the release's key names.

Run with Debian's interpreter: /usr/bin/python3 (python3-torch 1.13).
"""

import itertools
import json
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm


# --------------------------------------------------------------------------------------------
# Normalisations
# --------------------------------------------------------------------------------------------

def _mix(x, rho, eps):
    """rho * IN(x) + (1 - rho) * LN(x), both with unbiased variances; rho a tensor or a float."""
    in_mean = torch.mean(x, dim=[2, 3], keepdim=True)
    in_var = torch.var(x, dim=[2, 3], keepdim=True)
    out_in = (x - in_mean) / torch.sqrt(in_var + eps)
    ln_mean = torch.mean(x, dim=[1, 2, 3], keepdim=True)
    ln_var = torch.var(x, dim=[1, 2, 3], keepdim=True)
    out_ln = (x - ln_mean) / torch.sqrt(ln_var + eps)
    return rho * out_in + (1 - rho) * out_ln


class adaILN(nn.Module):
    """Adaptive Instance-Layer Norm: per-channel mix (rho) of IN and LN, then the MLP's gamma/beta.

    Both variances are unbiased (torch.var default, divide by count - 1): the release's quirk.
    With fixed_rho (the AdaIN ablation: 1) there is no rho parameter.
    """

    def __init__(self, num_features, eps=1e-5, fixed_rho=None):
        super().__init__()
        self.eps = eps
        self.fixed_rho = fixed_rho
        if fixed_rho is None:
            self.rho = nn.Parameter(torch.full((1, num_features, 1, 1), 0.9))

    def forward(self, x, gamma, beta):
        if self.fixed_rho is not None:
            out = _mix(x, self.fixed_rho, self.eps)
            return out * gamma.unsqueeze(2).unsqueeze(3) + beta.unsqueeze(2).unsqueeze(3)
        in_mean = torch.mean(x, dim=[2, 3], keepdim=True)
        in_var = torch.var(x, dim=[2, 3], keepdim=True)           # unbiased
        out_in = (x - in_mean) / torch.sqrt(in_var + self.eps)
        ln_mean = torch.mean(x, dim=[1, 2, 3], keepdim=True)
        ln_var = torch.var(x, dim=[1, 2, 3], keepdim=True)        # unbiased
        out_ln = (x - ln_mean) / torch.sqrt(ln_var + self.eps)
        rho = self.rho.expand(x.shape[0], -1, -1, -1)
        out = rho * out_in + (1 - rho) * out_ln
        return out * gamma.unsqueeze(2).unsqueeze(3) + beta.unsqueeze(2).unsqueeze(3)


class ILN(nn.Module):
    """Instance-Layer Norm with its own learned per-channel gamma (init 1) and beta (init 0).

    rho starts at 0 (pure layer norm). Variances unbiased, as in adaILN. With fixed_rho (the
    IN ablation: 1, LN: 0) there is no rho parameter.
    """

    def __init__(self, num_features, eps=1e-5, fixed_rho=None):
        super().__init__()
        self.eps = eps
        self.fixed_rho = fixed_rho
        if fixed_rho is None:
            self.rho = nn.Parameter(torch.zeros(1, num_features, 1, 1))
        self.gamma = nn.Parameter(torch.ones(1, num_features, 1, 1))
        self.beta = nn.Parameter(torch.zeros(1, num_features, 1, 1))

    def forward(self, x):
        if self.fixed_rho is not None:
            n = x.shape[0]
            out = _mix(x, self.fixed_rho, self.eps)
            return out * self.gamma.expand(n, -1, -1, -1) + self.beta.expand(n, -1, -1, -1)
        in_mean = torch.mean(x, dim=[2, 3], keepdim=True)
        in_var = torch.var(x, dim=[2, 3], keepdim=True)           # unbiased
        out_in = (x - in_mean) / torch.sqrt(in_var + self.eps)
        ln_mean = torch.mean(x, dim=[1, 2, 3], keepdim=True)
        ln_var = torch.var(x, dim=[1, 2, 3], keepdim=True)        # unbiased
        out_ln = (x - ln_mean) / torch.sqrt(ln_var + self.eps)
        rho = self.rho.expand(x.shape[0], -1, -1, -1)
        out = rho * out_in + (1 - rho) * out_ln
        n = x.shape[0]
        return out * self.gamma.expand(n, -1, -1, -1) + self.beta.expand(n, -1, -1, -1)


# --------------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------------

class ResnetBlock(nn.Module):
    """Encoder residual block: x + [pad1, conv3, IN, ReLU, pad1, conv3, IN](x). Keys conv_block.1/.5."""

    def __init__(self, dim):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1),                                   # 0
            nn.Conv2d(dim, dim, 3, 1, 0, bias=False),                # 1
            nn.InstanceNorm2d(dim),                                  # 2 (affine False, biased var)
            nn.ReLU(True),                                           # 3
            nn.ReflectionPad2d(1),                                   # 4
            nn.Conv2d(dim, dim, 3, 1, 0, bias=False),                # 5
            nn.InstanceNorm2d(dim),                                  # 6
        )

    def forward(self, x):
        return x + self.conv_block(x)


# The paper's ablations of the decoder's normalisation (the releases have no code for them;
# these are the project's definitions, as in the README):
#   in:    every decoder norm is ILN with rho fixed at 1; no gamma/beta MLP
#   ln:    the same with rho fixed at 0
#   adain: residual-block norms adaILN with rho fixed at 1; up-sampling norms as in `in`
#   gn:    every decoder norm is GroupNorm(G, C, eps 1e-5), G the largest divisor of C <= 32;
#          no MLP
NORMS = ('adalin', 'in', 'ln', 'adain', 'gn')


def has_mlp(norm):
    return norm in ('adalin', 'adain')


def groups_of(c):
    return max(g for g in range(1, min(c, 32) + 1) if c % g == 0)


def residual_norm(norm, dim):
    return {'adalin': lambda: adaILN(dim), 'in': lambda: ILN(dim, fixed_rho=1.0),
            'ln': lambda: ILN(dim, fixed_rho=0.0), 'adain': lambda: adaILN(dim, fixed_rho=1.0),
            'gn': lambda: nn.GroupNorm(groups_of(dim), dim, eps=1e-5)}[norm]()


def upsampling_norm(norm, dim):
    return {'adalin': lambda: ILN(dim), 'in': lambda: ILN(dim, fixed_rho=1.0),
            'ln': lambda: ILN(dim, fixed_rho=0.0), 'adain': lambda: ILN(dim, fixed_rho=1.0),
            'gn': lambda: nn.GroupNorm(groups_of(dim), dim, eps=1e-5)}[norm]()


class ResnetAdaILNBlock(nn.Module):
    """Decoder residual block with adaILN (or an ablation's norm); every block gets the same
    gamma, beta (None without the MLP)."""

    def __init__(self, dim, norm='adalin'):
        super().__init__()
        self.ada = has_mlp(norm)
        self.pad1 = nn.ReflectionPad2d(1)
        self.conv1 = nn.Conv2d(dim, dim, 3, 1, 0, bias=False)
        self.norm1 = residual_norm(norm, dim)
        self.relu1 = nn.ReLU(True)
        self.pad2 = nn.ReflectionPad2d(1)
        self.conv2 = nn.Conv2d(dim, dim, 3, 1, 0, bias=False)
        self.norm2 = residual_norm(norm, dim)

    def _norm(self, norm, x, gamma, beta):
        return norm(x, gamma, beta) if self.ada else norm(x)

    def forward(self, x, gamma, beta):
        out = self.pad1(x)
        out = self.conv1(out)
        out = self._norm(self.norm1, out, gamma, beta)
        out = self.relu1(out)
        out = self.pad2(out)
        out = self.conv2(out)
        out = self._norm(self.norm2, out, gamma, beta)
        return out + x


class ResnetGenerator(nn.Module):
    """U-GAT-IT generator. Returns (image, cam_logit, heatmap)."""

    def __init__(self, ch=64, n_res=4, img_size=256, light=False, norm='adalin', cam=True):
        super().__init__()
        self.ch, self.n_res, self.img_size, self.light = ch, n_res, img_size, light
        self.norm, self.cam = norm, cam
        c4 = ch * 4

        # Encoder layers are constructed first (this fixes the order in which the default
        # initialisers draw from the RNG); they are registered as `DownBlock` further down so
        # that the state_dict lists keys in the release's order.
        down = [
            nn.ReflectionPad2d(3),                                   # 0
            nn.Conv2d(3, ch, 7, 1, 0, bias=False),                   # 1
            nn.InstanceNorm2d(ch),                                   # 2
            nn.ReLU(True),                                           # 3
        ]
        for i in range(2):                                           # 4..7, 8..11
            mult = 2 ** i
            down += [
                nn.ReflectionPad2d(1),
                nn.Conv2d(ch * mult, ch * mult * 2, 3, 2, 0, bias=False),
                nn.InstanceNorm2d(ch * mult * 2),
                nn.ReLU(True),
            ]
        for _ in range(n_res):                                       # 12 .. 12+n_res-1
            down += [ResnetBlock(c4)]

        # CAM attention of the generator (not built by the --cam_g false ablation).
        if cam:
            self.gap_fc = nn.Linear(c4, 1, bias=False)
            self.gmp_fc = nn.Linear(c4, 1, bias=False)
            self.conv1x1 = nn.Conv2d(c4 * 2, c4, 1, 1, bias=True)
            self.relu = nn.ReLU(True)

        # Gamma/beta MLP (all Linear without bias), for AdaLIN and AdaIN only.
        fc = None
        if has_mlp(norm):
            if light:
                fc = [nn.Linear(c4, c4, bias=False), nn.ReLU(True),
                      nn.Linear(c4, c4, bias=False), nn.ReLU(True)]
            else:
                side = img_size // 4
                fc = [nn.Linear(side * side * c4, c4, bias=False), nn.ReLU(True),
                      nn.Linear(c4, c4, bias=False), nn.ReLU(True)]
            self.gamma = nn.Linear(c4, c4, bias=False)
            self.beta = nn.Linear(c4, c4, bias=False)

        # Decoder residual blocks UpBlock1_1 .. UpBlock1_n.
        for i in range(n_res):
            setattr(self, 'UpBlock1_' + str(i + 1), ResnetAdaILNBlock(c4, norm))

        # Up-sampling, indices as in the release (2, 3, 7, 8, 11 hold parameters).
        up2 = []
        for i in range(2):
            mult = 2 ** (2 - i)
            up2 += [
                nn.Upsample(scale_factor=2, mode='nearest'),         # 0 / 5
                nn.ReflectionPad2d(1),                               # 1 / 6
                nn.Conv2d(ch * mult, ch * mult // 2, 3, 1, 0, bias=False),  # 2 / 7
                upsampling_norm(norm, ch * mult // 2),               # 3 / 8
                nn.ReLU(True),                                       # 4 / 9
            ]
        up2 += [
            nn.ReflectionPad2d(3),                                   # 10
            nn.Conv2d(ch, 3, 7, 1, 0, bias=False),                   # 11
            nn.Tanh(),                                               # 12
        ]

        self.DownBlock = nn.Sequential(*down)
        if fc is not None:
            self.FC = nn.Sequential(*fc)
        self.UpBlock2 = nn.Sequential(*up2)

    def forward(self, inp):
        x = self.DownBlock(inp)
        n = x.shape[0]
        cam_logit = heatmap = None
        if self.cam:
            x, cam_logit, heatmap = self._cam(x)
        gamma = beta = None
        if has_mlp(self.norm):
            if self.light:
                x_ = F.adaptive_avg_pool2d(x, 1)
                x_ = self.FC(x_.view(n, -1))
            else:
                x_ = self.FC(x.view(n, -1))
            gamma, beta = self.gamma(x_), self.beta(x_)

        for i in range(self.n_res):
            x = getattr(self, 'UpBlock1_' + str(i + 1))(x, gamma, beta)
        out = self.UpBlock2(x)
        return out, cam_logit, heatmap

    def _cam(self, x):
        n = x.shape[0]

        gap = F.adaptive_avg_pool2d(x, 1)
        gap_logit = self.gap_fc(gap.view(n, -1))
        gap_weight = self.gap_fc.weight                  # (1, 4ch)
        gap = x * gap_weight.unsqueeze(2).unsqueeze(3)

        gmp = F.adaptive_max_pool2d(x, 1)
        gmp_logit = self.gmp_fc(gmp.view(n, -1))
        gmp_weight = self.gmp_fc.weight
        gmp = x * gmp_weight.unsqueeze(2).unsqueeze(3)

        cam_logit = torch.cat([gap_logit, gmp_logit], 1)
        x = torch.cat([gap, gmp], 1)
        x = self.relu(self.conv1x1(x))
        heatmap = torch.sum(x, dim=1, keepdim=True)
        return x, cam_logit, heatmap


# --------------------------------------------------------------------------------------------
# Discriminator
# --------------------------------------------------------------------------------------------

class Discriminator(nn.Module):
    """PatchGAN discriminator with CAM, every conv/linear spectrally normalised except conv1x1.

    n_layers = 7 for the global and 5 for the local discriminator in the release.
    Returns (patch logits, cam_logit, heatmap).
    """

    def __init__(self, ch=64, n_layers=5, cam=True):
        super().__init__()
        self.cam = cam
        model = [
            nn.ReflectionPad2d(1),                                                  # 0
            spectral_norm(nn.Conv2d(3, ch, 4, 2, 0, bias=True)),                    # 1
            nn.LeakyReLU(0.2, True),                                                # 2
        ]
        for i in range(1, n_layers - 2):                                            # i = 1..L-3
            mult = 2 ** (i - 1)
            model += [
                nn.ReflectionPad2d(1),
                spectral_norm(nn.Conv2d(ch * mult, ch * mult * 2, 4, 2, 0, bias=True)),
                nn.LeakyReLU(0.2, True),
            ]
        mult = 2 ** (n_layers - 3)
        model += [
            nn.ReflectionPad2d(1),
            spectral_norm(nn.Conv2d(ch * mult, ch * mult * 2, 4, 1, 0, bias=True)),
            nn.LeakyReLU(0.2, True),
        ]
        c = ch * mult * 2                                   # = ch * 2^(n_layers-2)

        if cam:                                             # not built by --cam_d false
            self.gap_fc = spectral_norm(nn.Linear(c, 1, bias=False))
            self.gmp_fc = spectral_norm(nn.Linear(c, 1, bias=False))
            self.conv1x1 = nn.Conv2d(c * 2, c, 1, 1, bias=True)
            self.leaky_relu = nn.LeakyReLU(0.2, True)
        self.pad = nn.ReflectionPad2d(1)
        self.conv = spectral_norm(nn.Conv2d(c, 1, 4, 1, 0, bias=False))
        self.model = nn.Sequential(*model)

    def forward(self, inp):
        x = self.model(inp)
        if not self.cam:
            return self.conv(self.pad(x)), None, None
        n = x.shape[0]

        gap = F.adaptive_avg_pool2d(x, 1)
        gap_logit = self.gap_fc(gap.view(n, -1))         # spectrally normalised weight
        gap_weight = self.gap_fc.weight_orig             # QUIRK: raw parameter for re-weighting
        gap = x * gap_weight.unsqueeze(2).unsqueeze(3)

        gmp = F.adaptive_max_pool2d(x, 1)
        gmp_logit = self.gmp_fc(gmp.view(n, -1))
        gmp_weight = self.gmp_fc.weight_orig
        gmp = x * gmp_weight.unsqueeze(2).unsqueeze(3)

        cam_logit = torch.cat([gap_logit, gmp_logit], 1)
        x = torch.cat([gap, gmp], 1)
        x = self.leaky_relu(self.conv1x1(x))
        heatmap = torch.sum(x, dim=1, keepdim=True)

        x = self.pad(x)
        out = self.conv(x)
        return out, cam_logit, heatmap


# --------------------------------------------------------------------------------------------
# The whole model and its training step
# --------------------------------------------------------------------------------------------

def clamp_rho(module, lo=0.0, hi=1.0):
    """Clamp every `rho` (adaILN and ILN) of `module` into [lo, hi], in place."""
    for m in module.modules():
        if isinstance(getattr(m, 'rho', None), nn.Parameter):
            m.rho.data = m.rho.data.clamp(lo, hi)


NET_NAMES = ('genA2B', 'genB2A', 'disGA', 'disGB', 'disLA', 'disLB')


class UGATIT:
    """Six networks, two Adam optimisers and the release's training step."""

    def __init__(self, ch=64, n_res=4, img_size=256, light=False,
                 n_layers_global=7, n_layers_local=5, norm='adalin', cam_g=True, cam_d=True,
                 lr=1e-4, weight_decay=1e-4,
                 adv_weight=1.0, cycle_weight=10.0, identity_weight=10.0, cam_weight=1000.0):
        self.lr = lr
        self.adv_weight = adv_weight
        self.cycle_weight = cycle_weight
        self.identity_weight = identity_weight
        self.cam_weight = cam_weight

        # Construction order as in the release: generators, then global, then local discriminators.
        self.genA2B = ResnetGenerator(ch, n_res, img_size, light, norm, cam_g)
        self.genB2A = ResnetGenerator(ch, n_res, img_size, light, norm, cam_g)
        self.disGA = Discriminator(ch, n_layers_global, cam_d)
        self.disGB = Discriminator(ch, n_layers_global, cam_d)
        self.disLA = Discriminator(ch, n_layers_local, cam_d)
        self.disLB = Discriminator(ch, n_layers_local, cam_d)

        self.L1 = nn.L1Loss()
        self.MSE = nn.MSELoss()
        self.BCE = nn.BCEWithLogitsLoss()

        self.G_optim = torch.optim.Adam(
            itertools.chain(self.genA2B.parameters(), self.genB2A.parameters()),
            lr=lr, betas=(0.5, 0.999), weight_decay=weight_decay)
        self.D_optim = torch.optim.Adam(
            itertools.chain(self.disGA.parameters(), self.disGB.parameters(),
                            self.disLA.parameters(), self.disLB.parameters()),
            lr=lr, betas=(0.5, 0.999), weight_decay=weight_decay)

    def nets(self):
        return {name: getattr(self, name) for name in NET_NAMES}

    def train(self):
        for net in self.nets().values():
            net.train()

    def eval(self):
        for net in self.nets().values():
            net.eval()

    def decay_lr(self, step, iteration):
        """The release's linear decay (call before train_step): past iteration/2, both learning
        rates drop by lr/(iteration/2) per step. Not used by the fixtures."""
        if step > iteration // 2:
            for opt in (self.G_optim, self.D_optim):
                opt.param_groups[0]['lr'] -= self.lr / (iteration // 2)

    @staticmethod
    def _grads(net):
        """Copy of every parameter's gradient of `net`, keyed by its state_dict name."""
        return {k: (p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p))
                for k, p in net.named_parameters()}

    def train_step(self, real_A, real_B, capture=False):
        """One iteration of the release's training loop.

        Returns a dict of every loss term (Python floats). With capture=True also returns
        'grads' ({net name: {param name: grad}}, discriminators captured right after the D
        backward, generators right after the G backward, i.e. before each Adam step) and
        'images' (the G-phase fakes).
        """
        adv, cyc, idt, cam = self.adv_weight, self.cycle_weight, self.identity_weight, self.cam_weight
        L1 = self.L1

        # Without CAM (the ablations) a CAM output is None and its loss term is 0.
        def MSE(x, target):
            return self.MSE(x, target) if x is not None else torch.zeros(())

        def BCE(x, target):
            return self.BCE(x, target) if x is not None else torch.zeros(())

        def ones(x):
            return torch.ones_like(x) if x is not None else None

        def zeros(x):
            return torch.zeros_like(x) if x is not None else None
        self.train()
        out = {}

        # ---- Discriminator update -------------------------------------------------------
        self.D_optim.zero_grad()

        # The fakes stay in the graph (not detached), as in the release; the gradients that
        # leak into the generators are cleared by G_optim.zero_grad() below.
        fake_A2B, _, _ = self.genA2B(real_A)
        fake_B2A, _, _ = self.genB2A(real_B)

        # Exact call order: each training-mode call advances that discriminator's u, v.
        real_GA_logit, real_GA_cam_logit, _ = self.disGA(real_A)
        real_LA_logit, real_LA_cam_logit, _ = self.disLA(real_A)
        real_GB_logit, real_GB_cam_logit, _ = self.disGB(real_B)
        real_LB_logit, real_LB_cam_logit, _ = self.disLB(real_B)

        fake_GA_logit, fake_GA_cam_logit, _ = self.disGA(fake_B2A)
        fake_LA_logit, fake_LA_cam_logit, _ = self.disLA(fake_B2A)
        fake_GB_logit, fake_GB_cam_logit, _ = self.disGB(fake_A2B)
        fake_LB_logit, fake_LB_cam_logit, _ = self.disLB(fake_A2B)

        def d_term(real, fake):
            return MSE(real, ones(real)) + MSE(fake, zeros(fake))

        D_ad_loss_GA = d_term(real_GA_logit, fake_GA_logit)
        D_ad_cam_loss_GA = d_term(real_GA_cam_logit, fake_GA_cam_logit)
        D_ad_loss_LA = d_term(real_LA_logit, fake_LA_logit)
        D_ad_cam_loss_LA = d_term(real_LA_cam_logit, fake_LA_cam_logit)
        D_ad_loss_GB = d_term(real_GB_logit, fake_GB_logit)
        D_ad_cam_loss_GB = d_term(real_GB_cam_logit, fake_GB_cam_logit)
        D_ad_loss_LB = d_term(real_LB_logit, fake_LB_logit)
        D_ad_cam_loss_LB = d_term(real_LB_cam_logit, fake_LB_cam_logit)

        D_loss_A = adv * (D_ad_loss_GA + D_ad_cam_loss_GA + D_ad_loss_LA + D_ad_cam_loss_LA)
        D_loss_B = adv * (D_ad_loss_GB + D_ad_cam_loss_GB + D_ad_loss_LB + D_ad_cam_loss_LB)
        Discriminator_loss = D_loss_A + D_loss_B
        Discriminator_loss.backward()

        grads = {}
        if capture:
            for name in ('disGA', 'disGB', 'disLA', 'disLB'):
                grads[name] = self._grads(getattr(self, name))
        self.D_optim.step()

        for k, v in (('D_ad_loss_GA', D_ad_loss_GA), ('D_ad_cam_loss_GA', D_ad_cam_loss_GA),
                     ('D_ad_loss_LA', D_ad_loss_LA), ('D_ad_cam_loss_LA', D_ad_cam_loss_LA),
                     ('D_ad_loss_GB', D_ad_loss_GB), ('D_ad_cam_loss_GB', D_ad_cam_loss_GB),
                     ('D_ad_loss_LB', D_ad_loss_LB), ('D_ad_cam_loss_LB', D_ad_cam_loss_LB),
                     ('D_loss_A', D_loss_A), ('D_loss_B', D_loss_B),
                     ('Discriminator_loss', Discriminator_loss)):
            out[k] = v.item()

        # ---- Generator update -----------------------------------------------------------
        self.G_optim.zero_grad()

        fake_A2B, fake_A2B_cam_logit, _ = self.genA2B(real_A)
        fake_B2A, fake_B2A_cam_logit, _ = self.genB2A(real_B)

        fake_A2B2A, _, _ = self.genB2A(fake_A2B)
        fake_B2A2B, _, _ = self.genA2B(fake_B2A)

        fake_A2A, fake_A2A_cam_logit, _ = self.genB2A(real_A)
        fake_B2B, fake_B2B_cam_logit, _ = self.genA2B(real_B)

        fake_GA_logit, fake_GA_cam_logit, _ = self.disGA(fake_B2A)
        fake_LA_logit, fake_LA_cam_logit, _ = self.disLA(fake_B2A)
        fake_GB_logit, fake_GB_cam_logit, _ = self.disGB(fake_A2B)
        fake_LB_logit, fake_LB_cam_logit, _ = self.disLB(fake_A2B)

        G_ad_loss_GA = MSE(fake_GA_logit, ones(fake_GA_logit))
        G_ad_cam_loss_GA = MSE(fake_GA_cam_logit, ones(fake_GA_cam_logit))
        G_ad_loss_LA = MSE(fake_LA_logit, ones(fake_LA_logit))
        G_ad_cam_loss_LA = MSE(fake_LA_cam_logit, ones(fake_LA_cam_logit))
        G_ad_loss_GB = MSE(fake_GB_logit, ones(fake_GB_logit))
        G_ad_cam_loss_GB = MSE(fake_GB_cam_logit, ones(fake_GB_cam_logit))
        G_ad_loss_LB = MSE(fake_LB_logit, ones(fake_LB_logit))
        G_ad_cam_loss_LB = MSE(fake_LB_cam_logit, ones(fake_LB_cam_logit))

        G_recon_loss_A = L1(fake_A2B2A, real_A)
        G_recon_loss_B = L1(fake_B2A2B, real_B)

        G_identity_loss_A = L1(fake_A2A, real_A)
        G_identity_loss_B = L1(fake_B2B, real_B)

        G_cam_loss_A = (BCE(fake_B2A_cam_logit, ones(fake_B2A_cam_logit))
                        + BCE(fake_A2A_cam_logit, zeros(fake_A2A_cam_logit)))
        G_cam_loss_B = (BCE(fake_A2B_cam_logit, ones(fake_A2B_cam_logit))
                        + BCE(fake_B2B_cam_logit, zeros(fake_B2B_cam_logit)))

        G_loss_A = (adv * (G_ad_loss_GA + G_ad_cam_loss_GA + G_ad_loss_LA + G_ad_cam_loss_LA)
                    + cyc * G_recon_loss_A + idt * G_identity_loss_A + cam * G_cam_loss_A)
        G_loss_B = (adv * (G_ad_loss_GB + G_ad_cam_loss_GB + G_ad_loss_LB + G_ad_cam_loss_LB)
                    + cyc * G_recon_loss_B + idt * G_identity_loss_B + cam * G_cam_loss_B)
        Generator_loss = G_loss_A + G_loss_B
        Generator_loss.backward()

        if capture:
            for name in ('genA2B', 'genB2A'):
                grads[name] = self._grads(getattr(self, name))
        self.G_optim.step()

        # Clip rho of every adaILN / ILN into [0, 1].
        clamp_rho(self.genA2B)
        clamp_rho(self.genB2A)

        for k, v in (('G_ad_loss_GA', G_ad_loss_GA), ('G_ad_cam_loss_GA', G_ad_cam_loss_GA),
                     ('G_ad_loss_LA', G_ad_loss_LA), ('G_ad_cam_loss_LA', G_ad_cam_loss_LA),
                     ('G_ad_loss_GB', G_ad_loss_GB), ('G_ad_cam_loss_GB', G_ad_cam_loss_GB),
                     ('G_ad_loss_LB', G_ad_loss_LB), ('G_ad_cam_loss_LB', G_ad_cam_loss_LB),
                     ('G_recon_loss_A', G_recon_loss_A), ('G_recon_loss_B', G_recon_loss_B),
                     ('G_identity_loss_A', G_identity_loss_A),
                     ('G_identity_loss_B', G_identity_loss_B),
                     ('G_cam_loss_A', G_cam_loss_A), ('G_cam_loss_B', G_cam_loss_B),
                     ('G_loss_A', G_loss_A), ('G_loss_B', G_loss_B),
                     ('Generator_loss', Generator_loss)):
            out[k] = v.item()

        if capture:
            out['grads'] = grads
            out['images'] = {
                'fake_A2B': fake_A2B.detach().clone(), 'fake_B2A': fake_B2A.detach().clone(),
                'fake_A2B2A': fake_A2B2A.detach().clone(),
                'fake_B2A2B': fake_B2A2B.detach().clone(),
                'fake_A2A': fake_A2A.detach().clone(), 'fake_B2B': fake_B2B.detach().clone(),
            }
        return out


LOSS_TERMS = (
    'D_ad_loss_GA', 'D_ad_cam_loss_GA', 'D_ad_loss_LA', 'D_ad_cam_loss_LA',
    'D_ad_loss_GB', 'D_ad_cam_loss_GB', 'D_ad_loss_LB', 'D_ad_cam_loss_LB',
    'D_loss_A', 'D_loss_B', 'Discriminator_loss',
    'G_ad_loss_GA', 'G_ad_cam_loss_GA', 'G_ad_loss_LA', 'G_ad_cam_loss_LA',
    'G_ad_loss_GB', 'G_ad_cam_loss_GB', 'G_ad_loss_LB', 'G_ad_cam_loss_LB',
    'G_recon_loss_A', 'G_recon_loss_B', 'G_identity_loss_A', 'G_identity_loss_B',
    'G_cam_loss_A', 'G_cam_loss_B', 'G_loss_A', 'G_loss_B', 'Generator_loss',
)


# --------------------------------------------------------------------------------------------
# safetensors writer / reader (pure Python, F32 only)
# --------------------------------------------------------------------------------------------

def save_safetensors(path, tensors, metadata=None):
    """Write `tensors` ({name: tensor/array/float}) as float32 safetensors, in insertion order.

    Layout: u64 little-endian header length, JSON header (padded with spaces to a multiple of 8),
    then the raw little-endian float32 data. Python scalars are stored with shape [1].
    """
    header = {}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        if isinstance(t, torch.Tensor):
            a = t.detach().cpu().to(torch.float32).contiguous().numpy()
        else:
            a = np.asarray(t, dtype=np.float32)
        shape = list(a.shape) if a.ndim > 0 else [1]
        data = np.ascontiguousarray(a, dtype='<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': shape,
                        'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header['__metadata__'] = {str(k): str(v) for k, v in metadata.items()}
    hbytes = json.dumps(header, separators=(',', ':')).encode('utf-8')
    hbytes += b' ' * ((8 - len(hbytes) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(hbytes)))
        f.write(hbytes)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    """Read a file written by save_safetensors: returns ({name: np.float32 array}, metadata)."""
    with open(path, 'rb') as f:
        raw = f.read()
    (hlen,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + hlen].decode('utf-8'))
    meta = header.pop('__metadata__', {})
    base = 8 + hlen
    out = {}
    for name, info in header.items():
        assert info['dtype'] == 'F32'
        b, e = info['data_offsets']
        out[name] = np.frombuffer(raw[base + b:base + e], dtype='<f4').reshape(info['shape'])
    return out, meta
