#!/usr/bin/env python3
"""A mutation fuzzer for squant-opt (a developer's tool, not a test).

Takes the lit tests' IR (test/**/*.mlir, split at `// -----`, RUN lines and
expected diagnostics dropped), mutates 1-3 integer or float literals,
element types or tensor dimensions at random, runs squant-opt with one of
squant's passes (or none: the verifiers) and reports every distinct crash
(a signal, a stack dump, an LLVM ERROR): squant's contract is a
diagnostic for bad input, never a crash. Reproducers go to $OUT_DIR
(default /tmp/squant-fuzz) as crash-<hash>.mlir, first line the pass.

  python3 scripts/fuzz-squant-opt.py [seed] [count]

SQUANT_OPT names the binary (copy it out of build/ when building while
this runs). Session 37: 2900 mutants, seeds 1 and 2, no crash.
"""
import random, re, subprocess, sys, os, glob, hashlib
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out_dir = os.environ.get('OUT_DIR', '/tmp/squant-fuzz')
os.makedirs(out_dir, exist_ok=True)
random.seed(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
N = int(sys.argv[2]) if len(sys.argv) > 2 else 300
opt = os.environ.get('SQUANT_OPT', os.path.join(root, 'build', 'bin', 'squant-opt'))
passes = ['--squant-fold-zero-points', '--squant-fold-zero-points=allow-inexact', '--squant-fuse-dequant-matmul',
          '--squant-import-quant', '--squant-pack-weights', '--squant-quantize-constants',
          '--squant-raise-dequant', '--squant-to-lut', '--squant-to-lut=float-lut', '--canonicalize',
          '--convert-squant-to-runtime=target=avx512', '--convert-squant-to-runtime=target=amx',
          '--convert-squant-to-vector', '--squant-optimize', '--squant-lower-to-llvm-cpu',
          '--convert-squant-to-gpu', '--squant-parallel-to-runtime', '']
chunks = []
for f in glob.glob(os.path.join(root, 'test', '**', '*.mlir'), recursive=True):
    for c in open(f).read().split('// -----'):
        c = '\n'.join(l for l in c.splitlines() if not l.strip().startswith('// RUN') and 'expected-' not in l)
        if 'squant' in c and len(c) < 20000:
            chunks.append((f, c))
ints = ['0', '1', '-1', '2', '3', '5', '7', '8', '9', '16', '31', '33', '127', '128', '255', '256', '-128', '65536', '2147483647', '-2147483648', '4294967296']
floats = ['0.0', '-0.0', '1.0e+38', '1.0e-45', '0x7FC00000', '0x7F800000', '0xFF800000', '3.5', '-2.0', '1.0e+300']
types = ['f32', 'f16', 'bf16', 'f64', 'i8', 'i4', 'i32', 'i1', 'index', 'i2']
def mutate(s):
    for _ in range(random.randint(1, 3)):
        kind = random.random()
        if kind < 0.45:
            ms = list(re.finditer(r'(?<![\w.#%@x])-?\d+(?![\w.])', s))
            if not ms: continue
            m = random.choice(ms)
            s = s[:m.start()] + random.choice(ints) + s[m.end():]
        elif kind < 0.65:
            ms = list(re.finditer(r'-?\d+\.\d+(e[+-]?\d+)?', s))
            if not ms: continue
            m = random.choice(ms)
            s = s[:m.start()] + random.choice(floats) + s[m.end():]
        elif kind < 0.85:
            ms = list(re.finditer(r'\b(f32|f16|bf16|f64|i8|i4|i32|i2|i3|i1|index)\b', s))
            if not ms: continue
            m = random.choice(ms)
            s = s[:m.start()] + random.choice(types) + s[m.end():]
        else:
            ms = list(re.finditer(r'(\d+)x', s))
            if not ms: continue
            m = random.choice(ms)
            s = s[:m.start()] + random.choice(['0', '1', '3', '17', '64', '?']) + 'x' + s[m.end():]
    return s
found = {}
for i in range(N):
    f, c = random.choice(chunks)
    m = mutate(c)
    p = random.choice(passes)
    args = [opt] + ([p] if p else []) + ['-o', '/dev/null']
    try:
        r = subprocess.run(args, input=m.encode(), capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        key = ('timeout', p)
        if key not in found:
            found[key] = (f, m); print('TIMEOUT', p, f)
        continue
    err = r.stderr.decode(errors='replace')
    crash = r.returncode < 0 or 'Stack dump' in err or 'PLEASE submit' in err or 'Assertion' in err or 'LLVM ERROR' in err or 'UNREACHABLE' in err
    if crash:
        first = [l for l in err.splitlines() if l.strip()][:1]
        sig = (p, r.returncode, first[0][:100] if first else '')
        if sig not in found:
            found[sig] = (f, m)
            h = hashlib.md5(m.encode()).hexdigest()[:8]
            open(os.path.join(out_dir, f'crash-{h}.mlir'), 'w').write(f'// pass: {p}\n// from: {f}\n' + m)
            print('CRASH', r.returncode, p, f, h, first)
print('done', N, 'found', len(found))
sys.exit(1 if found else 0)
