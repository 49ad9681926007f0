#!/usr/bin/env bash
# Compile-time quantization benchmark: one process per row (peak memory is a
# per-process figure). Usage: bench/quantize-constants.sh [N] [K]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${SQUANT_BUILD_DIR:-$root/build}/bin/squant-bench-quantize-constants"
n="${1:-16384}"; k="${2:-16384}"
echo "squant-quantize-constants, one core, weight [$n, $k] fp32 (dense_resource)"
echo "| scheme           | bits | group | pack      | input      | time      | fp32 in    | peak/in |"
echo "|------------------|------|-------|-----------|------------|-----------|------------|---------|"
"$bin" stretched 2 32 "$n" "$k"
"$bin" stretched 2 32 "$n" "$k" lsb_first
"$bin" float_zero_point 4 128 "$n" "$k"
"$bin" asymmetric 4 32 "$n" "$k"
"$bin" symmetric 8 0 "$n" "$k"
