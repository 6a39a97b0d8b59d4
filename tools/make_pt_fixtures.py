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
  mixed.pt                   two groups sharing one float32 storage (whole and a row view),
                             float16 and an int64 num_batches_tracked (value 7)
  *_legacy.pt                the legacy format (torch.save(..., _use_new_zipfile_serialization=
                             False), as PyTorch before 1.6 wrote) of gen_only, dtypes and
                             mixed; their twins are the zip files; mixed_proto4_legacy.pt is
                             mixed with pickle protocol 4
  bad_*.pt                   broken or hostile files that must be refused (hand-made pickles;
                             bad_legacy_*.pt in the legacy format)

The C tests only read these committed files; CI never runs this script.
"""

import collections
import io
import os
import pickle
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


def save_legacy(obj, name, **kw):
    torch.save(obj, path(name), _use_new_zipfile_serialization=False, **kw)


def mixed():
    a = torch.arange(6.).reshape(2, 3)
    torch.manual_seed(5)
    return {'genA2B': collections.OrderedDict([('w', a), ('row', a[1]),
                                               ('bn.num_batches_tracked', torch.tensor(7))]),
            'disGA': collections.OrderedDict([('w_again', a), ('h', torch.randn(3).half())])}


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
    save_legacy(gen, 'gen_only_legacy.pt')

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
    save_legacy(d, 'dtypes_legacy.pt')

    torch.save(mixed(), path('mixed.pt'))
    save_legacy(mixed(), 'mixed_legacy.pt')
    save_legacy(mixed(), 'mixed_proto4_legacy.pt', pickle_protocol=4)


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


def tensor(key, numel, size, stride, offset=0, storage=b'ctorch\nFloatStorage\n', view=None):
    """A tensor; view: the legacy format's sixth persistent id item (b'N' for None)."""
    pid = tup(s('storage'), storage, s(key), s('cpu'), i(numel), *([view] if view else []))
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
    make_zip('bad_no_version.pt', state(('w', tensor('0', 6, (6,), (1,)))), {'0': six},
             version=None)
    # A non-contiguous tensor as torch itself saves it.
    torch.save({'genA2B': {'t': torch.arange(6.).reshape(2, 3).t()}}, path('bad_transposed.pt'))


LEGACY_INFO = dict(protocol_version=1001, little_endian=True,
                   type_sizes=dict(short=2, int=4, long=4))


def make_legacy(name, obj_pkl, storages, keys=None, version=1001, info=LEGACY_INFO,
                magic=0x1950a86a20f9469cfc6c, tail=b''):
    """A legacy torch.save file around a hand-made object pickle: the header pickles,
    obj_pkl, the storage key list (keys, or the storages' keys) and each storage as
    (key, element count, raw bytes): an int64 count, then the bytes."""
    data = (pickle.dumps(magic, protocol=2) + pickle.dumps(version, protocol=2) +
            pickle.dumps(info, protocol=2) + obj_pkl +
            pickle.dumps([k for k, _, _ in storages] if keys is None else keys, protocol=2) +
            b''.join(struct.pack('<q', n) + raw for _, n, raw in storages) + tail)
    if name:
        with open(path(name), 'wb') as f:
            f.write(data)
    return data


def hostile_legacy():
    six = struct.pack('<6f', *range(6))
    w = ('w', tensor('0', 6, (2, 3), (3, 1), view=b'N'))
    v = ('v', tensor('1', 2, (2,), (1,), view=b'N'))
    two = [('0', 6, six), ('1', 2, struct.pack('<2f', 7, 8))]
    # Sanity: the hand-made writer makes files torch itself loads.
    good = make_legacy(None, state(w, v), two)
    back = torch.load(io.BytesIO(good))['genA2B']
    assert back['w'].tolist() == [[0, 1, 2], [3, 4, 5]] and back['v'].tolist() == [7, 8]

    make_legacy('bad_legacy_magic.pt', state(w), two[:1], magic=0x1950a86a20f9469cfc6d)
    make_legacy('bad_legacy_version.pt', state(w), two[:1], version=1002)
    make_legacy('bad_legacy_big_endian.pt', state(w), two[:1],
                info=dict(LEGACY_INFO, little_endian=False))
    make_legacy('bad_legacy_posix_system.pt',
                b'\x80\x02cposix\nsystem\n' + s('echo hi') + b'\x85R.', two[:1])
    make_legacy('bad_legacy_int_storage.pt',
                state(('w', tensor('0', 3, (3,), (1,), storage=b'ctorch\nIntStorage\n',
                                   view=b'N'))), [('0', 3, struct.pack('<3i', 1, 2, 3))])
    make_legacy('bad_legacy_view.pt',
                state(('w', tensor('0', 6, (2, 3), (3, 1), view=tup(s('9'), i(0), i(6))))),
                two[:1])
    make_legacy('bad_legacy_count.pt', state(w), [('0', 7, six + b'\0' * 4)])
    make_legacy('bad_legacy_huge_count.pt', state(('w', tensor('0', 2 ** 40, (2, 3), (3, 1),
                                                                view=b'N'))),
                [('0', 2 ** 40, six)])
    make_legacy('bad_legacy_missing_key.pt', state(w, v), two[:1])
    make_legacy('bad_legacy_unused_key.pt', state(w), two)
    make_legacy('bad_legacy_twice.pt', state(w), two[:1] * 2)
    make_legacy('bad_legacy_offset.pt', state(('w', tensor('0', 6, (2, 3), (3, 1), offset=2,
                                                           view=b'N'))), two[:1])
    make_legacy('bad_legacy_tail.pt', state(w), two[:1], tail=b'\0')
    make_legacy('bad_legacy_keys.pt', state(w), two[:1], keys={'0': 1})
    make_legacy('bad_legacy_two_sizes.pt', state(w, ('x', tensor('0', 5, (5,), (1,),
                                                                 view=b'N'))), two[:1])


def corpus():
    """Small valid seeds for the fuzzers (a few kB each)."""
    for sub in ('pt', 'pt_legacy', 'pickle', 'safetensors'):
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
    buf = io.BytesIO()
    torch.save(small, buf, _use_new_zipfile_serialization=False)
    with open(os.path.join(CORPUS, 'pt_legacy', 'small.pt'), 'wb') as f:
        f.write(buf.getvalue())
    with open(os.path.join(CORPUS, 'pt_legacy', 'mixed.pt'), 'wb') as f:
        f.write(open(path('mixed_legacy.pt'), 'rb').read())
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
    hostile_legacy()
    corpus()
    # Every good file loads into the release networks (the check a user of the release does).
    d = torch.load(path('light96_params_0000001.pt'))
    m = model(True, 96, 7, 5, seed=0)
    for name in NETS:
        getattr(m, name).load_state_dict(d[name])
    # The legacy twins hold what their zip twins hold.
    for stem in ('gen_only', 'dtypes', 'mixed', 'mixed_proto4'):
        a = torch.load(path(stem + '_legacy.pt'))
        b = torch.load(path(stem.replace('_proto4', '') + '.pt'))
        flat = flatten(a) if stem != 'gen_only' else a
        assert all(torch.equal(x, y) for x, y in zip(flat.values(),
                                                      (flatten(b) if stem != 'gen_only'
                                                       else b).values()))
    total = 0
    for name in sorted(os.listdir(OUT)):
        total += os.path.getsize(path(name))
        print('%-36s %8d bytes' % (name, os.path.getsize(path(name))))
    print('total %d bytes' % total)
    assert total < 2 * 1024 * 1024


if __name__ == '__main__':
    main()
