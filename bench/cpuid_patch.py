#!/usr/bin/python3
"""Runs a program on a CPU without AVX-512 where CPUID cannot fault (a virtual machine that
does not pass CPUID faulting on): finds the CPUID instructions of the given files with
objdump -d and runs the program under bench/libcpuid_avx2.so as an audit library, which patches
each into UD2 as the file loads and answers it with the AVX-512 features cleared
(bench/cpuid_avx2.c). Only the listed files' CPUID instructions are answered so; list every
file whose kernel choice matters (ONNX Runtime: libonnxruntime.so.1).

    bench/cpuid_patch.py --lib build-bench/bench/libcpuid_avx2.so FILE... -- PROGRAM ARGS...
"""
import argparse
import os
import re
import subprocess
import sys


def cpuid_sites(path):
    """The offsets of path's CPUID instructions from its load address, as hexadecimal text.
    objdump's output is read a line at a time: whole, it is hundreds of MB for ONNX Runtime, and
    a process started from ours would then report that as its own peak resident set (Linux
    keeps the pre-exec peak in ru_maxrss)."""
    line_re = re.compile(r'^\s*([0-9a-f]+):\s+cpuid\s*$')
    with subprocess.Popen(['objdump', '-d', '--no-show-raw-insn', path], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as p:
        sites = [m.group(1) for m in map(line_re.match, p.stdout) if m]
        err = p.stderr.read()
    if p.returncode != 0:
        raise OSError('objdump -d %s: %s' % (path, err.strip() or 'failed'))
    return sites


def patch_env(lib, files):
    """The environment that runs a program with the CPUID instructions of files patched."""
    spec = ';'.join('%s:%s' % (os.path.realpath(f), ','.join(cpuid_sites(f))) for f in files)
    return dict(os.environ, LD_AUDIT=os.path.realpath(lib), CPUID_AVX2_PATCH=spec)


def main():
    argv = sys.argv[1:]
    if '--' not in argv:
        sys.exit('usage: %s --lib LIB FILE... -- PROGRAM ARGS...' % sys.argv[0])
    cut = argv.index('--')
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--lib', required=True)
    ap.add_argument('files', nargs='+')
    a = ap.parse_args(argv[:cut])
    env = patch_env(a.lib, a.files)
    os.execvpe(argv[cut + 1], argv[cut + 1:], env)


if __name__ == '__main__':
    main()
