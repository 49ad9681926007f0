#!/usr/bin/env python3
"""squant's GPU benchmark (issue 6), run on the GPU machine by
scripts/gpu/run.sh: needs PyTorch with CUDA and the libraries built here
(build/lib/libsquant_gpu.so, build/lib/libsquant_gpu_bench_kernels.so), no
LLVM.

For every problem of kernels.py (shapes N x K, batches M, int4/int3/int2 and
LUT 4/3/2-bit weights, groups of 128, f16 activations) it times, in one run:
  - squant's hand-written kernel (squant_gpu_qmatmul_run),
  - squant's generated kernel (the squant-lower-to-nvvm function of
    kernels.py; its launch is captured by libsquant_gpu and replayed),
  - cuBLAS fp16 and bf16 (torch.nn.functional.linear on [N, K] weights),
  - torch's tinygemm int4 kernel (torch.ops.aten._weight_int4pack_mm, bf16),
next to a device-to-device copy whose bandwidth (bytes read + written per
second) is measured in the same run, before each shape.

Timing: every kernel is launched on PyTorch's current stream while the GPU
is held busy by torch.cuda._sleep, so the launches queue up and run back to
back; CUDA events bracket a window of launches, one per weight copy. Weight
copies are rotated over at least 256 MiB (H100's L2 is 50 MiB), so weights
come from memory ("cold"). Each figure is the median over --windows windows
(min and max shown). Bytes moved count weights (codes, scales, biases or
table), activations and outputs once.

Correctness is squant-gpu-check's job; here the generated kernel's output
is compared with the hand-written one's (max |difference| / max |value|)
and tinygemm's with its own dequantized weights, so a broken baseline or
kernel shows up in the table.
"""

import argparse
import ctypes
import math
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kernels  # noqa: E402

ROTATE_BYTES = 256 << 20
F16, BF16 = 1, 2  # squant_gpu_dtype
FORM = {"fma": 1, "lut": 2}  # squant_gpu_form


class Problem(ctypes.Structure):
    _fields_ = [("form", ctypes.c_int), ("bits", ctypes.c_int32),
                ("m", ctypes.c_int64), ("n", ctypes.c_int64),
                ("k", ctypes.c_int64), ("group_size", ctypes.c_int64),
                ("act", ctypes.c_int), ("x", ctypes.c_void_p),
                ("codes", ctypes.c_void_p), ("scales", ctypes.c_void_p),
                ("biases", ctypes.c_void_p), ("table", ctypes.c_void_p),
                ("y", ctypes.c_void_p)]


def memref_type(rank):
    class Memref(ctypes.Structure):
        _fields_ = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
                    ("offset", ctypes.c_int64), ("sizes", ctypes.c_int64 * rank),
                    ("strides", ctypes.c_int64 * rank)]
    return Memref


Memref1, Memref2 = memref_type(1), memref_type(2)


def memref(t):
    """A memref descriptor of a contiguous CUDA tensor (rank 1 or 2)."""
    assert t.is_cuda and t.is_contiguous()
    d = (Memref1 if t.dim() == 1 else Memref2)()
    d.allocated = d.aligned = t.data_ptr()
    d.offset = 0
    for i, (size, stride) in enumerate(zip(t.shape, t.stride())):
        d.sizes[i], d.strides[i] = size, stride
    return d


class Gpu:
    def __init__(self, libdir):
        self.rt = ctypes.CDLL(os.path.join(libdir, "libsquant_gpu.so"))
        self.rt.squant_gpu_status_string.restype = ctypes.c_char_p
        self.rt.squant_gpu_take_error.restype = ctypes.c_char_p
        self.rt.squant_gpu_replay_launch.argtypes = [ctypes.c_int64, ctypes.c_void_p]
        self.rt.squant_gpu_qmatmul_run.argtypes = [ctypes.POINTER(Problem), ctypes.c_void_p]
        self.check(self.rt.squant_gpu_init(), "squant_gpu_init")
        self.gen = ctypes.CDLL(os.path.join(libdir, "libsquant_gpu_bench_kernels.so"))

    def check(self, status, what):
        if status != 0:
            why = self.rt.squant_gpu_take_error()
            raise RuntimeError(f"{what}: {self.rt.squant_gpu_status_string(status).decode()}"
                               + (f": {why.decode()}" if why else ""))

    def error(self, what):
        why = self.rt.squant_gpu_take_error()
        if why:
            raise RuntimeError(f"{what}: {why.decode()}")


def stream_handle():
    return ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)


class Timer:
    """Times windows of back-to-back launches with CUDA events."""

    def __init__(self, windows):
        self.windows = windows
        # Cycles of torch.cuda._sleep per millisecond, measured once.
        torch.cuda.synchronize()
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        torch.cuda._sleep(10_000_000)
        b.record()
        b.synchronize()
        self.cycles_per_ms = 10_000_000 / max(a.elapsed_time(b), 1e-3)
        self.hold_ms = 2.0
        self.starved = False

    MAX_HOLD_MS = 50.0

    def per_launch_ms(self, launch, count):
        """Median, min, max milliseconds per launch of launch(0..count-1)."""
        # Warm-up, untimed: the first launches of a library (cuBLAS handle,
        # lazy module loading) queue slowly, and a window measured then would
        # lengthen the hold of every later window (seen: a 23 ms first
        # window made the full benchmark run for over 5 minutes).
        for i in range(count):
            launch(i)
        torch.cuda.synchronize()
        times = []
        for _ in range(self.windows):
            torch.cuda.synchronize()
            torch.cuda._sleep(int(self.hold_ms * self.cycles_per_ms))
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            queued = time.perf_counter()
            start.record()
            for i in range(count):
                launch(i)
            end.record()
            queued = (time.perf_counter() - queued) * 1e3
            end.synchronize()
            if queued > 0.8 * self.hold_ms:
                # The GPU may have run dry while launches were queued: hold
                # it longer next time and measure this window again.
                self.hold_ms = min(2 * queued, self.MAX_HOLD_MS)
                self.starved = True
            times.append(start.elapsed_time(end) / count)
        return statistics.median(times), min(times), max(times)


def copies_for(nbytes):
    return max(2, math.ceil(ROTATE_BYTES / max(nbytes, 1)))


def copy_bandwidth(timer):
    """Device-to-device copy: (bytes read + written) / s, 1 GiB each way."""
    src = torch.empty(1 << 30, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    med, _, _ = timer.per_launch_ms(lambda i: dst.copy_(src), 4)
    del src, dst
    return 2 * (1 << 30) / (med * 1e-3)


class SquantWeights:
    """Rotated copies of one problem's packed weights and parameters."""

    def __init__(self, form, bits, n, k):
        groups = k // kernels.GROUP
        self.nbytes = n * k * bits // 8 + n * groups * 4 * (2 if form == "fma" else 1)
        if form == "lut":
            self.nbytes += 4 << bits
        self.copies = []
        for _ in range(copies_for(self.nbytes)):
            codes = torch.randint(0, 256, (n, k * bits // 8), dtype=torch.uint8, device="cuda")
            scales = torch.rand(n, groups, device="cuda") * 0.02 + 0.001
            last = (torch.randn(n, groups, device="cuda") * 0.01 if form == "fma"
                    else torch.randn(1 << bits, device="cuda"))
            self.copies.append((codes, scales, last))


def rel_diff(a, b):
    a, b = a.float(), b.float()
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()


def bench_squant(gpu, timer, form, bits, variant, m, n, k, x, weights):
    """(hand-written, generated, generated-vs-hand-written difference)."""
    out = torch.empty(len(weights.copies), m, n, dtype=torch.float16, device="cuda")
    problems = []
    for i, (codes, scales, last) in enumerate(weights.copies):
        p = Problem(FORM[form], bits, m, n, k, kernels.GROUP, F16, x.data_ptr(),
                    codes.data_ptr(), scales.data_ptr(),
                    last.data_ptr() if form == "fma" else None,
                    last.data_ptr() if form == "lut" else None, out[i].data_ptr())
        problems.append(p)
    stream = stream_handle()

    def hand(i):
        gpu.check(gpu.rt.squant_gpu_qmatmul_run(ctypes.byref(problems[i]), stream),
                  "squant_gpu_qmatmul_run")

    hand_times = timer.per_launch_ms(hand, len(problems))

    # Generated: call the lowered function once per copy with launches
    # captured, then replay them (the function's result buffers stay
    # allocated until the replays are done).
    name = "_mlir_ciface_" + kernels.function_name(variant, m, n, k)
    if not hasattr(gpu.gen, name):  # kernels.py lowered no function for this M
        return hand_times, None, None
    entry = getattr(gpu.gen, name)
    torch.cuda.synchronize()
    gpu.check(gpu.rt.squant_gpu_capture_launches(1), "capture")
    results = []
    try:
        for codes, scales, last in weights.copies:
            y = Memref2()
            args = [memref(x), memref(codes.view(torch.int8)), memref(scales), memref(last)]
            entry(ctypes.byref(y), *[ctypes.byref(a) for a in args])
            gpu.error("generated " + variant)
            results.append(y)
        count = ctypes.c_int64()
        gpu.check(gpu.rt.squant_gpu_captured_launches(ctypes.byref(count)), "captured")
        if count.value != len(weights.copies):
            raise RuntimeError(f"{variant}: expected one launch per call, got {count.value}")
        gen_times = timer.per_launch_ms(
            lambda i: gpu.check(gpu.rt.squant_gpu_replay_launch(i, stream), "replay"),
            count.value)
        # The first copy's generated output against the hand-written one.
        torch.cuda.synchronize()
        generated = torch.empty(m, n, dtype=torch.float16, device="cuda")
        gpu.check(gpu.rt.squant_gpu_memcpy(ctypes.c_void_p(generated.data_ptr()),
                                           ctypes.c_void_p(results[0].aligned),
                                           ctypes.c_size_t(m * n * 2)), "memcpy")
        diff = rel_diff(generated, out[0])
    finally:
        torch.cuda.synchronize()
        gpu.rt.squant_gpu_capture_launches(0)
        for y in results:
            gpu.rt.squant_gpu_free(ctypes.c_void_p(y.allocated))
    return hand_times, gen_times, diff


def tinygemm_pack(q, n, k):
    """torch's int4 tinygemm layout of unsigned codes q [N, K] (0..15)."""
    try:  # torch >= 2.5: uint8 [N, K/2], two codes per byte, even k high
        packed = (q[:, ::2] << 4 | q[:, 1::2]).to(torch.uint8)
        return torch.ops.aten._convert_weight_to_int4pack(packed, 8)
    except RuntimeError:  # older torch: int32 [N, K]
        return torch.ops.aten._convert_weight_to_int4pack(q.to(torch.int32), 8)


def bench_tinygemm(timer, m, n, k, x):
    groups = k // kernels.GROUP
    nbytes = n * k // 2 + groups * n * 2 * 2
    xb = x.to(torch.bfloat16)
    copies, expected = [], None
    for c in range(copies_for(nbytes)):
        q = torch.randint(0, 16, (n, k), dtype=torch.int32, device="cuda")
        sz = torch.empty(groups, n, 2, dtype=torch.bfloat16, device="cuda")
        sz[..., 0] = torch.rand(groups, n, device="cuda") * 0.02 + 0.001
        sz[..., 1] = torch.randn(groups, n, device="cuda") * 0.01
        copies.append((tinygemm_pack(q, n, k), sz))
        if c == 0:
            s = sz[..., 0].t().float().repeat_interleave(kernels.GROUP, dim=1)
            z = sz[..., 1].t().float().repeat_interleave(kernels.GROUP, dim=1)
            w = (q.float() - 8) * s + z
            expected = xb.float() @ w.t()
    op = torch.ops.aten._weight_int4pack_mm
    times = timer.per_launch_ms(lambda i: op(xb, copies[i][0], kernels.GROUP, copies[i][1]),
                                len(copies))
    diff = rel_diff(op(xb, copies[0][0], kernels.GROUP, copies[0][1]), expected)
    return times, nbytes, diff


def bench_cublas(timer, m, n, k, x, dtype):
    copies = [torch.randn(n, k, device="cuda").to(dtype) * 0.02
              for _ in range(copies_for(n * k * 2))]
    xd = x.to(dtype)
    f = torch.nn.functional.linear
    return timer.per_launch_ms(lambda i: f(xd, copies[i]), len(copies)), n * k * 2


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--libdir", default=os.path.join(
        os.environ.get("SQUANT_BUILD_DIR", os.path.join(root, "build")), "lib"))
    parser.add_argument("--windows", type=int, default=7)
    parser.add_argument("--quick", action="store_true",
                        help="4096x4096 only, batches 1 and 16")
    parser.add_argument("--batches", help="comma-separated M values (default: kernels.py's; "
                        "generated rows only for those)")
    parser.add_argument("--variants", help="comma-separated squant variants, "
                        "e.g. int4,int2 (default: all)")
    args = parser.parse_args()

    torch.manual_seed(0)
    torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction = True
    gpu = Gpu(args.libdir)
    timer = Timer(args.windows)
    props = torch.cuda.get_device_properties(0)
    print(f"# squant GPU benchmark: {props.name}, torch {torch.__version__}, "
          f"CUDA {torch.version.cuda}, {args.windows} windows, medians\n")
    print("| N x K | M | kernel | time us (min-max) | GB/s | of copy BW | "
          "cuBLAS fp16 / this | tinygemm / this | note |")
    print("|---|---|---|---|---|---|---|---|---|")
    shapes = kernels.SHAPES[:1] if args.quick else kernels.SHAPES
    batches = [1, 16] if args.quick else kernels.BATCHES
    if args.batches:
        batches = [int(b) for b in args.batches.split(",")]
    variants = kernels.VARIANTS
    if args.variants:
        variants = [v for v in variants if v[0] in args.variants.split(",")]
    summary = {}
    for n, k in shapes:
        bw = copy_bandwidth(timer)
        print(f"| {n}x{k} | | copy probe | | {bw / 1e9:.0f} | 1.00 | | | "
              "device-to-device, read + write |")
        for m in batches:
            x = (torch.randn(m, k, device="cuda") * 0.5).to(torch.float16)
            act = 2 * m * (k + n)

            def row(name, times, nbytes, note=""):
                med, lo, hi = times
                gbs = (nbytes + act) / (med * 1e-3) / 1e9
                ratios = [ref[0] / med if ref else float("nan") for ref in (cublas16, tiny)]
                cells = " | ".join("" if math.isnan(r) else f"{r:.2f}" for r in ratios)
                print(f"| {n}x{k} | {m} | {name} | {med * 1e3:.1f} ({lo * 1e3:.1f}-{hi * 1e3:.1f}) | "
                      f"{gbs:.0f} | {gbs * 1e9 / bw:.2f} | {cells} | {note} |")
                summary[(name, n, k, m)] = (med, gbs * 1e9 / bw, ratios)

            cublas16, tiny = None, None
            cublas16, fp16_bytes = bench_cublas(timer, m, n, k, x, torch.float16)
            row("cuBLAS fp16", cublas16, fp16_bytes)
            cublas_bf16, _ = bench_cublas(timer, m, n, k, x, torch.bfloat16)
            row("cuBLAS bf16", cublas_bf16, fp16_bytes)
            try:
                tiny, tiny_bytes, tiny_diff = bench_tinygemm(timer, m, n, k, x)
                row("tinygemm int4 (bf16)", tiny, tiny_bytes,
                    f"rel. diff vs its dequantized weights {tiny_diff:.1e}")
            except (RuntimeError, AttributeError) as e:
                print(f"| {n}x{k} | {m} | tinygemm int4 | unavailable: {str(e).splitlines()[0]} |||||||")
            for variant, form, bits in variants:
                weights = SquantWeights(form, bits, n, k)
                hand, gen, diff = bench_squant(gpu, timer, form, bits, variant, m, n, k, x, weights)
                row(f"squant {variant} hand-written", hand, weights.nbytes)
                if gen:
                    row(f"squant {variant} generated", gen, weights.nbytes,
                        f"hand-written / generated {hand[0] / gen[0]:.2f}; "
                        f"max diff vs hand-written {diff:.1e}")
                del weights
            torch.cuda.empty_cache()

    print("\n## Goals (issue 6), squant int4 hand-written unless named\n")
    for n, k in shapes:
        def get(name, m):
            return summary.get((name, n, k, m))
        one, sixteen = get("squant int4 hand-written", 1), get("squant int4 hand-written", 16)
        two = get("squant int2 hand-written", 1)
        if one:
            print(f"- {n}x{k}: batch 1 at {one[1]:.2f} of copy BW (goal >= 0.70); "
                  f"{one[2][0]:.2f}x cuBLAS fp16 (goal >= 2.9); {one[2][1]:.2f}x tinygemm (goal >= 2)")
        if one and sixteen:
            print(f"- {n}x{k}: batch 16 / batch 1 time {sixteen[0] / one[0]:.2f} (goal <= 1.15)")
        if one and two:
            print(f"- {n}x{k}: int2 {one[0] / two[0]:.2f}x faster than int4 (goal >= 1.6)")
        for m in batches:
            ratios = [get(f"squant {v} hand-written", m)[0] / get(f"squant {v} generated", m)[0]
                      for v, _, _ in variants if get(f"squant {v} generated", m)]
            if ratios:
                print(f"- {n}x{k}, M = {m}: generated / hand-written speed "
                      f"{min(ratios):.2f}-{max(ratios):.2f} (goal >= 0.8)")
    if timer.starved:
        print("\nNote: some windows queued launches slower than the GPU ran them; "
              "the hold was lengthened and those windows may read high.")


if __name__ == "__main__":
    main()
