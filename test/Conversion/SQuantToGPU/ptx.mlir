// REQUIRES: cuda-toolkit
// The PTX of the kernels, for sm_80 and sm_90 (gpu.binary's assembly,
// unescaped to lines): FMAs, 128-bit global loads, warp shuffles, no local
// memory, and in the warp-per-row kernels no calls (FMAs are instructions,
// not libdevice) and no int-to-float conversion per code.
// RUN: squant-opt %s --squant-lower-to-nvvm="chip=sm_80 format=isa" | sed -e 's/[\]0A/\n/g' -e 's/[\]09/ /g' | FileCheck %s --check-prefixes=PTX,SM80
// RUN: squant-opt %s --squant-lower-to-nvvm="chip=sm_90 format=isa" | sed -e 's/[\]0A/\n/g' -e 's/[\]09/ /g' | FileCheck %s --check-prefixes=PTX,SM90
//
// ptxas (CUDA toolkit) accepts every kernel for both targets with
// --warn-on-spills --warn-on-local-memory-usage --warning-as-error (the
// pipeline's default): the fatbin builds, and the host code translates to
// LLVM IR that calls libsquant_gpu's launcher.
// RUN: squant-opt %s --squant-lower-to-nvvm="chip=sm_80" | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=HOST
// RUN: squant-opt %s --squant-lower-to-nvvm="chip=sm_90 format=bin" | FileCheck %s --check-prefix=CUBIN

// SM80: .target sm_80
// SM90: .target sm_90
// PTX-LABEL: .entry qmatmul_warp_per_row(
// PTX-NOT: call
// PTX-NOT: .local
// PTX-NOT: cvt.rn.f32.s32
// PTX-NOT: cvt.rn.f32.u32
// PTX: ld.global{{(.nc)?}}.v4.b32
// PTX: or.b32 {{.*}}1258291200
// PTX: fma.rn.f32
// PTX: shfl.sync.bfly.b32
// PTX-LABEL: .entry qmatmul_warp_per_row_0(
// PTX-NOT: call
// PTX-NOT: .local
// PTX-NOT: cvt.rn.f32.s32
// PTX-NOT: cvt.rn.f32.u32
// PTX: ld.shared.b32
// PTX: fma.rn.f32
// PTX: shfl.sync.bfly.b32
// PTX-LABEL: .entry qmatmul_thread_per_output(
// PTX-NOT: .local
// PTX: fma.rn.f32
// 3-bit codes: a chunk is 128 codes in three 16-byte loads, fields read
// across word boundaries, no int-to-float conversion per code.
// PTX-LABEL: .entry qmatmul_warp_per_row_1(
// PTX-NOT: call
// PTX-NOT: .local
// PTX-NOT: cvt.rn.f32.s32
// PTX-NOT: cvt.rn.f32.u32
// PTX: ld.global{{(.nc)?}}.v4.b32 {{.*}}, [%rd[[P:[0-9]+]]];
// PTX-NEXT: ld.global{{(.nc)?}}.v4.b32 {{.*}}, [%rd[[P]]+16];
// PTX-NEXT: ld.global{{(.nc)?}}.v4.b32 {{.*}}, [%rd[[P]]+32];
// PTX: fma.rn.f32
// Small batches: activations staged through shared memory between
// barriers, read back with 128-bit shared loads; several chunks' code
// loads issued before the first barrier.
// PTX-LABEL: .entry qmatmul_warp_per_row_2(
// PTX-NOT: .local
// PTX-NOT: cvt.rn.f32.u32
// (LLVM places the staging loop's body after the K loop, so these are
// checked in any order.)
// PTX: ld.global{{(.nc)?}}.v4.b32
// PTX: ld.global{{(.nc)?}}.v4.b32
// PTX: bar.sync
// PTX-DAG: st.shared.v4.b32
// PTX-DAG: ld.shared.v4.b32
// PTX-DAG: fma.rn.f32
// PTX-DAG: shfl.sync.bfly.b32
// PTX-LABEL: .entry qmatmul_warp_per_row_3(
// PTX-NOT: .local
// PTX-NOT: cvt.rn.f32.u32
// PTX: bar.sync
// PTX-DAG: st.shared.v4.b32
// PTX-DAG: ld.shared.v4.b32
// PTX-DAG: fma.rn.f32
// PTX-DAG: shfl.sync.bfly.b32
// PTX-LABEL: .entry dequantize_kernel(
// PTX-NOT: .local
// PTX: cvt.rn.bf16.f32

// HOST: @squant_kernels_binary = internal constant
// HOST: call ptr @mgpuModuleGetFunction
// HOST: call void @mgpuLaunchKernel
// HOST: declare ptr @mgpuModuleLoad(ptr, i64)

// CUBIN: gpu.binary @squant_kernels {{.*}}chip = "sm_90"{{.*}} bin = "\7FELF

func.func @gemv_int4(%x: tensor<1x512xf16>, %p: tensor<37x256xi8>, %s: tensor<37x4xf32>, %b: tensor<37x4xf32>) -> tensor<1x37xf16> {
  %q = squant.unpack %p layout <order = lsb_first, bits = 4, storage = unsigned> : tensor<37x256xi8> -> tensor<37x512xi8>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 128>)
      : (tensor<1x512xf16>, tensor<37x512xi8>, tensor<37x4xf32>, tensor<37x4xf32>) -> tensor<1x37xf16>
  return %y : tensor<1x37xf16>
}

func.func @gemm_lut(%x: tensor<8x64xbf16>, %q: tensor<13x64xi8>, %s: tensor<13x2xf32>, %t: tensor<16xf32>) -> tensor<8x13xbf16> {
  %y = squant.qmatmul %x, %q scales(%s) table(%t) form(#squant.lut<bits = 4, axis = 1, group_size = 32>)
      : (tensor<8x64xbf16>, tensor<13x64xi8>, tensor<13x2xf32>, tensor<16xf32>) -> tensor<8x13xbf16>
  return %y : tensor<8x13xbf16>
}

func.func @gemv_3bit(%x: tensor<64xf32>, %p: tensor<13x24xi8>, %s: tensor<13x2xf32>, %b: tensor<13x2xf32>) -> tensor<13xf32> {
  %q = squant.unpack %p layout <order = lsb_first, bits = 3> : tensor<13x24xi8> -> tensor<13x64xi8>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 3, axis = 1, group_size = 32>)
      : (tensor<64xf32>, tensor<13x64xi8>, tensor<13x2xf32>, tensor<13x2xf32>) -> tensor<13xf32>
  return %y : tensor<13xf32>
}

func.func @dequantize(%q: tensor<4x64xi4>, %s: tensor<4x2xbf16>, %z: tensor<4x2xbf16>) -> tensor<4x64xbf16> {
  %0 = squant.dequantize %q, %s, %z scheme <float_zero_point, bits = 4, storage = unsigned, axis = 1, group_size = 32> : tensor<4x64xi4>, tensor<4x2xbf16>, tensor<4x2xbf16> -> tensor<4x64xbf16>
  return %0 : tensor<4x64xbf16>
}

// Benchmark-sized kernels (the shapes of scripts/gpu/bench.py): 4 chunks
// in flight per lane at M = 1; staged activations at M = 16 and 64.
func.func @int3_gemv_4096(%x: tensor<1x4096xbf16>, %p: tensor<256x1536xi8>, %s: tensor<256x32xf32>, %b: tensor<256x32xf32>) -> tensor<1x256xbf16> {
  %q = squant.unpack %p layout <order = lsb_first, bits = 3, storage = unsigned> : tensor<256x1536xi8> -> tensor<256x4096xi8>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 3, storage = unsigned, axis = 1, group_size = 128>)
      : (tensor<1x4096xbf16>, tensor<256x4096xi8>, tensor<256x32xf32>, tensor<256x32xf32>) -> tensor<1x256xbf16>
  return %y : tensor<1x256xbf16>
}

func.func @int4_gemm16_4096(%x: tensor<16x4096xf16>, %p: tensor<256x2048xi8>, %s: tensor<256x32xf32>, %b: tensor<256x32xf32>) -> tensor<16x256xf16> {
  %q = squant.unpack %p layout <order = lsb_first, bits = 4, storage = unsigned> : tensor<256x2048xi8> -> tensor<256x4096xi8>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 128>)
      : (tensor<16x4096xf16>, tensor<256x4096xi8>, tensor<256x32xf32>, tensor<256x32xf32>) -> tensor<16x256xf16>
  return %y : tensor<16x256xf16>
}

func.func @int2_gemm64_4096(%x: tensor<64x4096xf32>, %p: tensor<256x1024xi8>, %s: tensor<256x32xf32>, %b: tensor<256x32xf32>) -> tensor<64x256xf32> {
  %q = squant.unpack %p layout <order = lsb_first, bits = 2, storage = unsigned> : tensor<256x1024xi8> -> tensor<256x4096xi8>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 2, storage = unsigned, axis = 1, group_size = 128>)
      : (tensor<64x4096xf32>, tensor<256x4096xi8>, tensor<256x32xf32>, tensor<256x32xf32>) -> tensor<64x256xf32>
  return %y : tensor<64x256xf32>
}
