#!/usr/bin/env bash
# The AVX2 kernels (squant_rt forced to SQUANT_RT_ISA_AVX2: what a CPU
# without AVX-512 runs) against AVX2 baselines: OpenBLAS's Haswell core and
# oneDNN capped at AVX2, on the issue's shapes, M and thread counts.
# Usage: bench/runtime-avx2.sh [--quick] (further arguments go to the
# benchmark; --quick: 4096x4096 only).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${SQUANT_BUILD_DIR:-$root/build}/bin/squant-bench-runtime"
shapes=4096x4096,11008x4096,4096x11008,14336x4096
if [[ "${1:-}" == --quick ]]; then
  shapes=4096x4096
  shift
fi
ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell "$bin" --shapes "$shapes" \
  --m 1,8,32,128 --no-generated \
  --variants "int4 avx2,int3 avx2,int2 avx2,int8 avx2,lut4 avx2" "$@"
