#!/usr/bin/env python3
"""Runs one hand-written squant kernel a few times on fresh random weights,
for a profiler to attach to (scripts/gpu/run.sh --profile runs it under
ncu). Usage: profile_one.py BITS M N K [--libdir DIR] [--group G]
[--bf16]. One-FMA form, f16 (or bf16) activations."""

import argparse
import ctypes
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name in ("bits", "m", "n", "k"):
        parser.add_argument(name, type=int)
    parser.add_argument("--libdir", default=os.path.join(
        os.environ.get("SQUANT_BUILD_DIR", os.path.join(root, "build")), "lib"))
    parser.add_argument("--group", type=int, default=128)
    parser.add_argument("--bf16", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    a = parser.parse_args()
    gpu = bench.Gpu(a.libdir)
    dtype = torch.bfloat16 if a.bf16 else torch.float16
    groups = a.k // a.group
    codes = torch.randint(0, 256, (a.n, a.k * a.bits // 8), dtype=torch.uint8, device="cuda")
    scales = torch.rand(a.n, groups, device="cuda") * 0.02 + 0.001
    biases = torch.randn(a.n, groups, device="cuda") * 0.01
    x = (torch.randn(a.m, a.k, device="cuda") * 0.5).to(dtype)
    y = torch.empty(a.m, a.n, dtype=dtype, device="cuda")
    p = bench.Problem(bench.FORM["fma"], a.bits, a.m, a.n, a.k, a.group,
                      bench.BF16 if a.bf16 else bench.F16, x.data_ptr(), codes.data_ptr(),
                      scales.data_ptr(), biases.data_ptr(), None, y.data_ptr())
    for _ in range(a.runs):
        gpu.check(gpu.rt.squant_gpu_qmatmul_run(ctypes.byref(p), bench.stream_handle()),
                  "squant_gpu_qmatmul_run")
    torch.cuda.synchronize()
    print(f"ran {a.runs}x bits {a.bits} M {a.m} N {a.n} K {a.k} group {a.group}")


if __name__ == "__main__":
    main()
