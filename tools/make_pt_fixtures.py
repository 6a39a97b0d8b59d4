"""Write the .pt fixtures (tests/fixtures/pt/) and the fuzz seeds (fuzz/corpus/).

Usage (needs Debian's python3-torch 1.13):  /usr/bin/python3 tools/make_pt_fixtures.py

Checkpoints are written with torch.save exactly as the authors' release does: a dict with keys
genA2B, genB2A, disGA, disGB, disLA, disLB of the networks' state_dicts (tools/ugatit_ref.py has
the release's module names). Each has a safetensors twin (same GROUP.NAME keys, float32, no
metadata) written by ugatit_ref.save_safetensors, so a test can compare the two bit for bit.

  light96_params_0000001.pt  light, img 96, ch 2, n_res 2, D 7/5, after one training step
                             (the u, v buffers have moved off their initial values); the archive
                             folder is the file stem, as torch names it
  full32.pt                  full, img 32, ch 2, n_res 2, D 5/3, initial weights
  gen_only.pt                a single state_dict (light96's genA2B), as a generator is shared
  dtypes.pt                  float16, bfloat16, float64 and a view with a storage offset;
                             its twin holds the values converted to float32 by torch
  long_storage.pt            an int64 tensor (as BatchNorm's num_batches_tracked), read as float32
  bad_*.pt                   broken or hostile files that must be refused (hand-made pickles)

The C tests only read these committed files; CI never runs this script.
"""

import collections
import io
import os
import struct
import sys
import zipfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ugatit_ref as ref  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'pt')
CORPUS = os.path.join(ROOT, 'fuzz', 'corpus')
NETS = ('genA2B', 'genB2A', 'disGA', 'disGB', 'disLA', 'disLB')


def path(name):
    return os.path.join(OUT, name)


def twin(pt_name, flat):
    """The safetensors twin of a .pt: {GROUP.NAME: tensor} as float32."""
    ref.save_safetensors(path(pt_name.replace('.pt', '.safetensors')), flat)


def flatten(groups):
    return collections.OrderedDict(
        ('%s.%s' % (g, k), v) for g, sd in groups.items() for k, v in sd.items())


def model(light, img, g, l, seed):
    torch.manual_seed(seed)
    return ref.UGATIT(ch=2, n_res=2, img_size=img, light=light, n_layers_global=g,
                      n_layers_local=l)


def release_dict(m):
    """What the release's save() passes to torch.save."""
    return {name: getattr(m, name).state_dict() for name in NETS}


def checkpoints():
    # light96 after one step: the release saves mid-training.
    m = model(True, 96, 7, 5, seed=1)
    real_A = torch.rand(1, 3, 96, 96) * 2 - 1
    real_B = torch.rand(1, 3, 96, 96) * 2 - 1
    before = m.disGA.state_dict()['model.1.weight_u'].clone()
    m.train_step(real_A, real_B)
    assert not torch.equal(before, m.disGA.state_dict()['model.1.weight_u'])
    d = release_dict(m)
    torch.save(d, path('light96_params_0000001.pt'))
    twin('light96_params_0000001.pt', flatten(d))

    gen = m.genA2B.state_dict()
    torch.save(gen, path('gen_only.pt'))
    twin('gen_only.pt', flatten({'genA2B': gen}))

    m = model(False, 32, 5, 3, seed=2)
    d = release_dict(m)
    torch.save(d, path('full32.pt'))
    twin('full32.pt', flatten(d))

    torch.manual_seed(3)
    base = torch.randn(3, 4, dtype=torch.float64)
    sd = collections.OrderedDict([
        ('half', torch.randn(2, 3).half()),
        ('bf16', torch.randn(5).bfloat16()),
        ('double', base),
        ('row', base.float()[1]),          # a view: storage offset 4 into a 12-element storage
        ('scalar', torch.tensor(2.5)),
        ('empty', torch.zeros(0, 3)),
    ])
    d = {'genA2B': sd}
    torch.save(d, path('dtypes.pt'))
    twin('dtypes.pt', flatten({'genA2B': {k: v.float() for k, v in sd.items()}}))


# ---- hand-made pickles ---------------------------------------------------------------------

def s(text):
    """BINUNICODE."""
    b = text.encode()
    return b'X' + struct.pack('<I', len(b)) + b


def i(v):
    """BININT / LONG1."""
    if 0 <= v < 2 ** 31:
        return b'J' + struct.pack('<i', v)
    return b'\x8a\x08' + struct.pack('<q', v)


def tup(*items):
    return b'(' + b''.join(items) + b't'


ORDERED_DICT = b'ccollections\nOrderedDict\n)R'


def tensor(key, numel, size, stride, offset=0, storage=b'ctorch\nFloatStorage\n'):
    pid = tup(s('storage'), storage, s(key), s('cpu'), i(numel))
    return (b'ctorch._utils\n_rebuild_tensor_v2\n' +
            tup(pid + b'Q', i(offset), tup(*map(i, size)), tup(*map(i, stride)), b'\x89',
                ORDERED_DICT) + b'R')


def state(*pairs):
    """{'genA2B': OrderedDict(pairs)} as torch writes it."""
    body = b''.join(s(k) + v for k, v in pairs)
    return b'\x80\x02}(' + s('genA2B') + ORDERED_DICT + b'(' + body + b'uu.'


def make_zip(name, pkl, storages=None, prefix='archive', version=b'3\n'):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_STORED) as z:
        def put(entry, data):  # a fixed date keeps the output reproducible
            z.writestr(zipfile.ZipInfo(prefix + '/' + entry, (1980, 1, 1, 0, 0, 0)), data)
        put('data.pkl', pkl)
        for k, v in (storages or {}).items():
            put('data/' + k, v)
        if version is not None:
            put('version', version)
    data = buf.getvalue()
    if name:
        with open(path(name), 'wb') as f:
            f.write(data)
    return data


def hostile():
    six = struct.pack('<6f', *range(6))
    # Sanity: the hand-made writer makes files torch itself loads.
    good = make_zip(None, state(('w', tensor('0', 6, (2, 3), (3, 1)))), {'0': six})
    assert torch.load(io.BytesIO(good))['genA2B']['w'].tolist() == [[0, 1, 2], [3, 4, 5]]

    with open(path('gen_only.pt'), 'rb') as f:
        whole = f.read()
    with open(path('bad_truncated.pt'), 'wb') as f:
        f.write(whole[:len(whole) * 3 // 5])

    make_zip('bad_storage_size.pt', state(('w', tensor('0', 7, (7,), (1,)))), {'0': six})
    make_zip('bad_posix_system.pt', b'\x80\x02cposix\nsystem\n' + s('echo hi') + b'\x85R.')
    make_zip('bad_builtins_eval.pt', b'\x80\x02c__builtin__\neval\n' + s('1') + b'\x85R.')
    make_zip('bad_deep.pt', b'\x80\x02' + b'(' * 2000 + b'.')
    make_zip('bad_deep_tuples.pt', b'\x80\x02)' + b'\x85' * 1000 + b'.')
    make_zip('bad_huge_size.pt',
             state(('w', tensor('0', 6, (2 ** 40, 2 ** 40), (2 ** 40, 1)))), {'0': six})
    make_zip('bad_huge_storage.pt', state(('w', tensor('0', 2 ** 62, (6,), (1,)))), {'0': six})
    make_zip('bad_opcode.pt', b'\x80\x02}(' + s('genA2B') + b'i' + b'os\nsystem\n.')
    make_zip('bad_stride.pt', state(('w', tensor('0', 6, (2, 3), (1, 2)))), {'0': six})
    make_zip('bad_offset.pt', state(('w', tensor('0', 6, (2, 3), (3, 1), offset=2))), {'0': six})
    make_zip('bad_missing_storage.pt', state(('w', tensor('7', 6, (2, 3), (3, 1)))), {'0': six})
    make_zip('bad_int_storage.pt',
             state(('w', tensor('0', 3, (3,), (1,), storage=b'ctorch\nIntStorage\n'))),
             {'0': struct.pack('<3i', 1, 2, 3)})
    # int64, as BatchNorm's num_batches_tracked: read, as float32.
    make_zip('long_storage.pt',
             state(('w', tensor('0', 3, (3,), (1,), storage=b'ctorch\nLongStorage\n'))),
             {'0': struct.pack('<3q', 1, -2, 3)})
    make_zip('bad_no_version.pt', state(('w', tensor('0', 6, (6,), (1,)))), {'0': six},
             version=None)
    # A non-contiguous tensor as torch itself saves it.
    torch.save({'genA2B': {'t': torch.arange(6.).reshape(2, 3).t()}}, path('bad_transposed.pt'))


def corpus():
    """Small valid seeds for the fuzzers (a few kB each)."""
    for sub in ('pt', 'pickle', 'safetensors'):
        os.makedirs(os.path.join(CORPUS, sub), exist_ok=True)
    torch.manual_seed(4)
    small = {'genA2B': collections.OrderedDict([('w', torch.randn(2, 3)),
                                                 ('h', torch.randn(3).half())]),
             'disGA': collections.OrderedDict([('b', torch.randn(1, 2, 1, 1).double())])}
    buf = io.BytesIO()
    torch.save(small, buf)
    raw = buf.getvalue()
    with open(os.path.join(CORPUS, 'pt', 'small.pt'), 'wb') as f:
        f.write(raw)
    six = struct.pack('<6f', *range(6))
    hand = make_zip(None, state(('w', tensor('0', 6, (2, 3), (3, 1)))), {'0': six})
    with open(os.path.join(CORPUS, 'pt', 'hand.pt'), 'wb') as f:
        f.write(hand)
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        pkl = z.read([n for n in z.namelist() if n.endswith('/data.pkl')][0])
    with open(os.path.join(CORPUS, 'pickle', 'small.pkl'), 'wb') as f:
        f.write(pkl)
    with open(os.path.join(CORPUS, 'pickle', 'gen_metadata.pkl'), 'wb') as f:
        f.write(zipfile.ZipFile(path('gen_only.pt')).read('gen_only/data.pkl'))
    ref.save_safetensors(os.path.join(CORPUS, 'safetensors', 'small.safetensors'),
                         flatten(small), {'ch': '2', 'light': 'true'})
    ref.save_safetensors(os.path.join(CORPUS, 'safetensors', 'scalar.safetensors'),
                         {'a.b': torch.tensor([1.5])})


def main():
    os.makedirs(OUT, exist_ok=True)
    checkpoints()
    hostile()
    corpus()
    # Every good file loads into the release networks (the check a user of the release does).
    d = torch.load(path('light96_params_0000001.pt'))
    m = model(True, 96, 7, 5, seed=0)
    for name in NETS:
        getattr(m, name).load_state_dict(d[name])
    total = 0
    for name in sorted(os.listdir(OUT)):
        total += os.path.getsize(path(name))
        print('%-36s %8d bytes' % (name, os.path.getsize(path(name))))
    print('total %d bytes' % total)
    assert total < 2 * 1024 * 1024


if __name__ == '__main__':
    main()
