"""The seed a small golden fixture is drawn with: the first where float32 PyTorch agrees with
float64 on the first step's gradients and on the change after two steps, so that the C tests'
tolerances measure our code and not the fixture's rounding (tools/make_cyclegan_fixtures.py,
make_unit_fixtures.py, make_munit_fixtures.py).

A script gives build(seed, dtype) -> (model, real_A, real_B), the model having nets() and
train_step(real_A, real_B, capture=False), and cancelled(model): the 'net.key' names of the
biases whose exact gradient is 0 (an InstanceNorm follows them)."""

import torch

STATISTICS = ('running_mean', 'running_var')  # buffers, not parameters: no change to compare


def rel(a, b, floor=0.0):
    """|a - b| / max(|b|, floor), in double."""
    a, b = a.double(), b.double()
    n = max(b.norm().item(), floor)
    return (a - b).norm().item() / n if n > 0 else (a - b).norm().item()


def conditioning(build, cancelled, seed):
    """float32 against float64: the largest relative error of the step-1 gradients (a cancelled
    bias's relative to its network's largest gradient norm) and of the change after two steps
    (cancelled biases and running statistics left out)."""
    runs = []
    for dtype in (torch.float32, torch.float64):
        model, real_A, real_B = build(seed, dtype)
        nets = model.nets()
        init = {n: {k: v.clone() for k, v in net.state_dict().items()} for n, net in nets.items()}
        r1 = model.train_step(real_A, real_B, capture=True)
        model.train_step(real_A, real_B)
        runs.append((init, r1['grads'], {n: net.state_dict() for n, net in nets.items()}))
    skip = cancelled(model)
    (_, g32, s32), (i64, g64, s64) = runs
    floor = {n: max(v.double().norm().item() for v in g64[n].values()) for n in g64}
    worst_g = max(rel(g32[n][k], g64[n][k], floor[n] if '%s.%s' % (n, k) in skip else 0)
                  for n in g64 for k in g64[n])
    worst_s = max(rel(s32[n][k] - i64[n][k].to(s32[n][k].dtype), s64[n][k] - i64[n][k])
                  for n in s64 for k in s64[n]
                  if '%s.%s' % (n, k) not in skip and not k.endswith(STATISTICS))
    return worst_g, worst_s


def pick_seed(build, cancelled):
    """The first seed from 0 whose errors are below 2e-5 (gradients) and 1e-3 (change)."""
    for seed in range(50):
        g, s = conditioning(build, cancelled, seed)
        print('  seed %d: float32 vs float64 gradient %.3g, after two steps %.3g' % (seed, g, s),
              flush=True)
        if g < 2e-5 and s < 1e-3:
            return seed
    raise SystemExit('no well-conditioned seed found')
