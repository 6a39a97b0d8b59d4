"""Our own small PyTorch reference of CycleGAN, written from
shared/reference/baselines-reference.md section 1 (not from the official code): the ResNet
generator and the PatchGAN discriminator with the official state_dict names, init N(0, 0.02),
LSGAN, cycle and identity losses, the 50-image pool, Adam (0.5, 0.999) and the 'linear'
learning-rate policy, and one iteration in the official order.

Used by tools/make_cyclegan_fixtures.py (golden tests) and bench/bench_torch.py.
"""

import random

import torch
import torch.nn as nn

NET_NAMES = ('G_A', 'G_B', 'D_A', 'D_B')
LOSS_TERMS = ('D_A', 'G_A', 'cycle_A', 'idt_A', 'D_B', 'G_B', 'cycle_B', 'idt_B', 'D', 'G')


def instance_norm(c):
    # affine=False, no running statistics: the same in train and eval.
    return nn.InstanceNorm2d(c, affine=False, track_running_stats=False, eps=1e-5)


class ResnetBlock(nn.Module):
    """x + [pad, conv, IN, ReLU, pad, conv, IN](x); keys conv_block.1.* and conv_block.5.*."""

    def __init__(self, dim):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True), instance_norm(dim),
            nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True), instance_norm(dim))

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """One Sequential `model`: the index of each layer is its key prefix (model.1.weight, ...)."""

    def __init__(self, ngf=64, n_blocks=9):
        super().__init__()
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7, bias=True), instance_norm(ngf),
                  nn.ReLU(True)]
        for i in range(2):  # two stride-2 convolutions, zero padding 1
            c = ngf * 2 ** i
            layers += [nn.Conv2d(c, 2 * c, 3, stride=2, padding=1, bias=True),
                       instance_norm(2 * c), nn.ReLU(True)]
        layers += [ResnetBlock(4 * ngf) for _ in range(n_blocks)]
        for i in range(2):  # transposed convolutions, k3 s2 p1 op1: twice the side
            c = ngf * 4 // 2 ** i
            layers += [nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1,
                                          bias=True),
                       instance_norm(c // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7, bias=True), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class NLayerDiscriminator(nn.Module):
    """The PatchGAN: 4x4 convolutions, zero padding 1, LeakyReLU 0.2, IN after all but the first;
    raw logits (LSGAN)."""

    def __init__(self, ndf=64, n_layers=3):
        super().__init__()
        layers = [nn.Conv2d(3, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2 ** n, 8)
            stride = 2 if n < n_layers else 1
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=stride, padding=1, bias=True),
                       instance_norm(ndf * mult), nn.LeakyReLU(0.2, True)]
        layers += [nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1)]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


def init_weights(net, std=0.02):
    """Every Conv/ConvTranspose: weight N(0, std), bias 0."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def cancelled_biases(net):
    """Keys of the biases of convolutions followed by an InstanceNorm: the norm removes them, so
    their exact gradient is 0 and the computed one rounding noise (notes section 0.4)."""
    keys = []
    for prefix, seq in ((n, m) for n, m in net.named_modules() if isinstance(m, nn.Sequential)):
        mods = list(seq)
        for i, m in enumerate(mods[:-1]):
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) and \
                    isinstance(mods[i + 1], nn.InstanceNorm2d):
                keys.append('%s.%d.bias' % (prefix, i))
    return keys


class ImagePool:
    """50 fakes per domain; past 50, each query is swapped with probability 1/2 for a random kept
    one. Our draws come from a seeded random.Random (the C code uses its own generator, so the
    fixtures stay below 50 images, where no draw happens)."""

    def __init__(self, size=50, seed=0):
        self.size = size
        self.images = []
        self.rng = random.Random(seed)

    def query(self, batch):
        if self.size == 0:
            return batch
        out = []
        for x in batch.detach():
            x = x.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(x.clone())
                out.append(x)
            elif self.rng.uniform(0, 1) > 0.5:
                j = self.rng.randint(0, self.size - 1)
                out.append(self.images[j].clone())
                self.images[j] = x.clone()
            else:
                out.append(x)
        return torch.cat(out, 0)


class CycleGAN:
    """Four networks, two Adam optimisers (generators together, discriminators together) and the
    official iteration."""

    def __init__(self, ngf=64, n_blocks=9, n_layers=3, lr=2e-4, lambda_A=10.0, lambda_B=10.0,
                 lambda_idt=0.5, pool_size=50):
        self.G_A, self.G_B = ResnetGenerator(ngf, n_blocks), ResnetGenerator(ngf, n_blocks)
        self.D_A, self.D_B = NLayerDiscriminator(ngf, n_layers), NLayerDiscriminator(ngf, n_layers)
        for net in self.nets().values():
            init_weights(net)
        self.lambda_A, self.lambda_B, self.lambda_idt = lambda_A, lambda_B, lambda_idt
        self.pool_A, self.pool_B = ImagePool(pool_size, 1), ImagePool(pool_size, 2)
        self.opt_G = torch.optim.Adam(list(self.G_A.parameters()) + list(self.G_B.parameters()),
                                      lr=lr, betas=(0.5, 0.999))
        self.opt_D = torch.optim.Adam(list(self.D_A.parameters()) + list(self.D_B.parameters()),
                                      lr=lr, betas=(0.5, 0.999))

    def nets(self):
        return {n: getattr(self, n) for n in NET_NAMES}

    def set_lr(self, lr):
        for opt in (self.opt_G, self.opt_D):
            for g in opt.param_groups:
                g['lr'] = lr

    @staticmethod
    def linear_lr(base, epoch, n_epochs, n_epochs_decay):
        """The 'linear' policy in epoch `epoch` (1-based)."""
        return base * (1.0 - max(0, epoch + 1 - n_epochs) / float(n_epochs_decay + 1))

    @staticmethod
    def _grads(net):
        return {k: (p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p))
                for k, p in net.named_parameters()}

    def train_step(self, real_A, real_B, capture=False):
        """One iteration: the generators' Adam step, then the discriminators' on the pools'
        answers to the fakes made before it. Returns the loss terms (floats; weighted as the
        official code prints them) and with capture the gradients before each Adam step."""
        mse, l1 = nn.MSELoss(), nn.L1Loss()
        fake_B = self.G_A(real_A)
        rec_A = self.G_B(fake_B)
        fake_A = self.G_B(real_B)
        rec_B = self.G_A(fake_A)

        for d in (self.D_A, self.D_B):
            d.requires_grad_(False)
        self.opt_G.zero_grad()
        L = {}
        if self.lambda_idt > 0:
            idt_A, idt_B = self.G_A(real_B), self.G_B(real_A)
            L['idt_A'] = l1(idt_A, real_B) * self.lambda_B * self.lambda_idt
            L['idt_B'] = l1(idt_B, real_A) * self.lambda_A * self.lambda_idt
        else:
            L['idt_A'] = L['idt_B'] = torch.zeros(())
        pred_A, pred_B = self.D_A(fake_B), self.D_B(fake_A)
        L['G_A'] = mse(pred_A, torch.ones_like(pred_A))
        L['G_B'] = mse(pred_B, torch.ones_like(pred_B))
        L['cycle_A'] = l1(rec_A, real_A) * self.lambda_A
        L['cycle_B'] = l1(rec_B, real_B) * self.lambda_B
        L['G'] = L['G_A'] + L['G_B'] + L['cycle_A'] + L['cycle_B'] + L['idt_A'] + L['idt_B']
        L['G'].backward()
        grads = {}
        if capture:
            grads.update({n: self._grads(self.nets()[n]) for n in ('G_A', 'G_B')})
        self.opt_G.step()

        for d in (self.D_A, self.D_B):
            d.requires_grad_(True)
        self.opt_D.zero_grad()

        def d_loss(net, real, fake):
            pr, pf = net(real), net(fake.detach())
            loss = (mse(pr, torch.ones_like(pr)) + mse(pf, torch.zeros_like(pf))) * 0.5
            loss.backward()
            return loss

        L['D_A'] = d_loss(self.D_A, real_B, self.pool_B.query(fake_B))
        L['D_B'] = d_loss(self.D_B, real_A, self.pool_A.query(fake_A))
        L['D'] = L['D_A'] + L['D_B']
        if capture:
            grads.update({n: self._grads(self.nets()[n]) for n in ('D_A', 'D_B')})
        self.opt_D.step()
        out = {k: float(v) for k, v in L.items()}
        if capture:
            out['grads'] = grads
            out['images'] = {'fake_B': fake_B.detach(), 'fake_A': fake_A.detach(),
                             'rec_A': rec_A.detach(), 'rec_B': rec_B.detach()}
        return out
