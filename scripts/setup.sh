#!/usr/bin/env bash
# Installs every dependency squant needs from Debian's packages.
#
# Idempotent: when every package is already installed it does nothing (no
# `apt-get update`, no network). Nothing is downloaded from anywhere else.
set -euo pipefail

packages=(
  # Toolchain: LLVM/MLIR 22 (shared libMLIR.so, tablegen, FileCheck, lit).
  libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools clang-22
  # ASan + UBSan runtimes for the sanitized runtime tests.
  libclang-rt-22-dev
  # Build system.
  cmake ninja-build
  # Libraries MLIRConfig.cmake / LLVMConfig.cmake reference.
  zlib1g-dev libzstd-dev libedit-dev libxml2-dev libffi-dev libcurl4-openssl-dev
  # Unit tests.
  libgtest-dev
  # Baselines of the runtime benchmark (bench/): OpenBLAS and oneDNN.
  libopenblas-dev libdnnl-dev
  # Python for lit.
  python3
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all dependencies present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
