# -*- Python -*-
# lit configuration for squant: the IR tests (FileCheck) under test/ and the
# unit-test binaries of the build (GoogleTest) under test/Unit.

import os

import lit.formats
from lit.llvm import llvm_config

config.name = "squant"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.squant_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs", "external"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
llvm_config.use_default_substitutions()

# Tools come from the build (squant's) and from /usr/lib/llvm-22/bin
# (FileCheck, not, count, mlir-opt), never from PATH guesses.
tool_dirs = [config.squant_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(
    ["squant-opt", "squant-run", "squant-capi-test", "squant-gpu-check",
     "squant-bench-runtime", "mlir-opt", "mlir-runner", "mlir-translate", "clang"],
    tool_dirs)
# The runtime benchmark is built where OpenBLAS and oneDNN are installed
# (scripts/setup.sh installs them).
if os.path.exists(os.path.join(config.squant_tools_dir, "squant-bench-runtime")):
    config.available_features.add("runtime-bench")
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

# Executed tests: upstream's lowering to LLVM and the runner's support
# libraries, from /usr/lib/llvm-22.
config.substitutions.append(
    ("%{lower}",
     "--one-shot-bufferize=bufferize-function-boundaries "
     "--convert-linalg-to-loops --lower-affine --convert-scf-to-cf --convert-to-llvm "
     "--reconcile-unrealized-casts"))
runner_libs = [os.path.join(config.llvm_shlib_dir, name)
               for name in ("libmlir_runner_utils.so", "libmlir_c_runner_utils.so")]
config.substitutions.append(("%{runner_libs}", "-shared-libs=" + ",".join(runner_libs)))
# convert-squant-to-runtime followed by upstream's lowering, and the runtime
# library next to the runner's.
lower_after_runtime = (
    "--canonicalize --one-shot-bufferize=bufferize-function-boundaries "
    "--convert-linalg-to-loops --lower-affine --expand-strided-metadata "
    "--convert-scf-to-cf --finalize-memref-to-llvm --convert-to-llvm "
    "--reconcile-unrealized-casts")
config.substitutions.append(
    ("%{lower_runtime}", "--convert-squant-to-runtime " + lower_after_runtime))
config.substitutions.append(("%{lower_after_runtime}", lower_after_runtime))
# squant-lower-to-llvm-cpu with threads > 1 calls squant_rt_parallel_for too.
squant_rt = os.path.join(config.squant_obj_root, "lib", "libsquant_rt.so")
config.substitutions.append(
    ("%{runner_libs_rt}", "-shared-libs=" + ",".join(runner_libs + [squant_rt])))
config.substitutions.append(
    ("%{squant_rt_link}",
     squant_rt + " -Wl,-rpath," + os.path.join(config.squant_obj_root, "lib")))

# The plugin for stock mlir-opt.
config.substitutions.append(
    ("%squant_plugin", os.path.join(config.squant_obj_root, "lib", "SQuantPlugin.so")))

# The CMake package test: the build tree to install and the compilers to
# build the external project with.
config.substitutions.append(("%squant_obj_root", config.squant_obj_root))
config.substitutions.append(("%clang_path", os.path.join(config.llvm_tools_dir, "clang")))
config.substitutions.append(("%clangxx_path", os.path.join(config.llvm_tools_dir, "clang++")))

# GPU: "cuda-toolkit" when the build has nvcc/ptxas (the GPU lowering's
# PTX/cubin tests, squant-gpu-check built); "cuda-device" when the CUDA
# driver reports a device here (execution tests; UNSUPPORTED otherwise).
if config.squant_cuda_toolkit:
    config.available_features.add("cuda-toolkit")
    # The hand-written CUDA kernels' compiler and sources, for tests of
    # what nvcc makes of them.
    config.substitutions.append(("%nvcc", config.squant_nvcc))
    config.substitutions.append(
        ("%squant_cuda_src", os.path.join(config.squant_src_root, "runtime", "src", "cuda")))


def _cuda_device_count():
    import ctypes
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return 0
    count = ctypes.c_int(0)
    if cuda.cuInit(0) != 0 or cuda.cuDeviceGetCount(ctypes.byref(count)) != 0:
        return 0
    return count.value


if config.squant_cuda_toolkit and _cuda_device_count() > 0:
    config.available_features.add("cuda-device")
