// RUN: squant-opt %s --convert-squant-to-gpu --split-input-file --verify-diagnostics | FileCheck %s
// RUN: not squant-opt %s --convert-squant-to-gpu=m-tile=0 --split-input-file 2>&1 | FileCheck %s --check-prefix=OPTIONS

// OPTIONS: error: convert-squant-to-gpu: rows-per-block must be in [1, 32] and m-tile in [1, 16]

// int4 GEMV: the warp-per-row kernel. Host: device result buffer, launch of
// ceil(13 / 4) blocks of 32 x 4 threads. Kernel: 16-byte code loads,
// magic-number conversion (or 0x4B000000, subtract 2^23: no sitofp), one
// FMA per code, the group scale and bias applied once per chunk, a
// butterfly of five shuffles, lane 0 stores.
// CHECK-LABEL: func.func @gemv_int4
// CHECK-NOT: squant.
// CHECK: gpu.alloc async
// CHECK: gpu.launch_func @squant_kernels::@qmatmul_warp_per_row blocks in (%{{.*}}, %{{.*}}, %{{.*}}) threads in (%{{.*}}, %{{.*}}, %{{.*}}) args(%{{.*}} : memref<1x256xf16>, %{{.*}} : memref<13x128xi8>, %{{.*}} : memref<13x2xf32>, %{{.*}} : memref<13x2xf32>, %{{.*}} : memref<1x13xf16>)
// CHECK: bufferization.to_tensor
// CHECK: gpu.module @squant_kernels
// CHECK: gpu.func @qmatmul_warp_per_row({{.*}}) kernel {
// CHECK-NOT: workgroup
// CHECK: scf.for {{.*}} = %c0{{.*}} to %c8{{.*}} step %c32
// CHECK: vector.load {{.*}} {alignment = 16 : i64} : memref<13x128xi8>, vector<16xi8>
// CHECK-NOT: gpu.barrier
// CHECK: vector.load {{.*}} {alignment = 16 : i64} : memref<1x256xf16>, vector<8xf16>
// CHECK: arith.ori {{.*}}, %c1258291200_i32 : i32
// CHECK: arith.bitcast {{.*}} : i32 to f32
// CHECK: arith.subf {{.*}}, %cst{{.*}} : f32
// CHECK: math.fma
// CHECK-NOT: arith.sitofp
// CHECK-NOT: arith.uitofp
// CHECK: arith.select
// CHECK: scf.yield
// CHECK-COUNT-5: gpu.shuffle xor
// CHECK: memref.store {{.*}} : memref<1x13xf16>
func.func @gemv_int4(%x: tensor<256xf16>, %p: tensor<13x128xi8>, %s: tensor<13x2xf32>, %b: tensor<13x2xf32>) -> tensor<13xf16> {
  %q = squant.unpack %p layout <order = lsb_first, bits = 4, storage = unsigned> : tensor<13x128xi8> -> tensor<13x256xi8>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 128>)
      : (tensor<256xf16>, tensor<13x256xi8>, tensor<13x2xf32>, tensor<13x2xf32>) -> tensor<13xf16>
  return %y : tensor<13xf16>
}

// -----

// LUT: the int8 table staged as f32 in shared memory (a workgroup buffer,
// one barrier), codes looked up there; M = 3 in one tile of 3 rows, whose
// activations the block stages per step in a second workgroup buffer
// [3 rows, 32 chunks, 16 + 4 padding f32] between two barriers.
// CHECK-LABEL: func.func @gemm_lut
// CHECK: gpu.func @qmatmul_warp_per_row({{.*}}) workgroup(%[[TABLE:.*]] : memref<4xf32, #gpu.address_space<workgroup>>, %[[TILE:.*]] : memref<3x32x20xf32, #gpu.address_space<workgroup>>) kernel
// CHECK: arith.sitofp {{.*}} : i8 to f32
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK: vector.load {{.*}} : memref<13x64xi8>, vector<16xi8>
// CHECK: scf.for
// CHECK: vector.load {{.*}} : memref<3x64xf32>, vector<4xf32>
// CHECK: vector.store {{.*}}, %[[TILE]]
// CHECK: gpu.barrier
// CHECK: vector.load %[[TILE]]
// CHECK: memref.load %[[TABLE]]
// CHECK: gpu.barrier
// CHECK: scf.yield
// CHECK-COUNT-15: gpu.shuffle xor
func.func @gemm_lut(%x: tensor<3x64xf32>, %q: tensor<13x64xi8>, %s: tensor<13x2xf32>, %t: tensor<4xi8>) -> tensor<3x13xf32> {
  %y = squant.qmatmul %x, %q scales(%s) table(%t) form(#squant.lut<bits = 2, axis = 1, group_size = 32>)
      : (tensor<3x64xf32>, tensor<13x64xi8>, tensor<13x2xf32>, tensor<4xi8>) -> tensor<3x13xf32>
  return %y : tensor<3x13xf32>
}

// -----

// 3-bit packed codes in groups of 32: a chunk of whole 16-byte words is 128
// codes (48 bytes), more than a group, so one thread per output reads the
// code from its bytes and computes the reference weight.
// CHECK-LABEL: func.func @gemv_3bit
// CHECK: gpu.launch_func @squant_kernels::@qmatmul_thread_per_output
// CHECK: gpu.func @qmatmul_thread_per_output
// CHECK: scf.for
// CHECK: math.fma
func.func @gemv_3bit(%x: tensor<64xf32>, %p: tensor<13x24xi8>, %s: tensor<13x2xf32>, %b: tensor<13x2xf32>) -> tensor<13xf32> {
  %q = squant.unpack %p layout <order = lsb_first, bits = 3> : tensor<13x24xi8> -> tensor<13x64xi8>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 3, axis = 1, group_size = 32>)
      : (tensor<64xf32>, tensor<13x64xi8>, tensor<13x2xf32>, tensor<13x2xf32>) -> tensor<13xf32>
  return %y : tensor<13xf32>
}

// -----

// 3-bit codes in groups of 128: chunks of 128 codes read as three 16-byte
// loads (12 words); code 10 (bits 30..32) joins word 0's top two bits with
// word 1's lowest bit; signed fields are offset by 4 (xor). K = 8192 is
// 64 chunks: 2 per lane in flight.
// CHECK-LABEL: func.func @gemv_3bit_group128
// CHECK: gpu.func @qmatmul_warp_per_row
// CHECK: scf.for {{.*}} = %c0{{.*}} to %c64{{.*}} step %c64
// CHECK: vector.load {{.*}} : memref<5x3072xi8>, vector<16xi8>
// CHECK: %[[W0:.*]] = vector.extract %{{.*}}[0] : i32 from vector<4xi32>
// CHECK: %[[W1:.*]] = vector.extract %{{.*}}[1] : i32 from vector<4xi32>
// CHECK-COUNT-5: vector.load {{.*}} : memref<5x3072xi8>, vector<16xi8>
// CHECK: %[[LOW:.*]] = arith.shrui %[[W0]], %c30_i32{{.*}}
// CHECK: %[[HIGH:.*]] = arith.shli %[[W1]], %c2_i32{{.*}}
// CHECK: %[[JOINED:.*]] = arith.ori %[[LOW]], %[[HIGH]]
// CHECK: arith.andi %[[JOINED]], %c7_i32{{.*}}
func.func @gemv_3bit_group128(%x: tensor<8192xf32>, %p: tensor<5x3072xi8>, %s: tensor<5x64xf32>, %b: tensor<5x64xf32>) -> tensor<5xf32> {
  %q = squant.unpack %p layout <order = lsb_first, bits = 3> : tensor<5x3072xi8> -> tensor<5x8192xi8>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 3, axis = 1, group_size = 128>)
      : (tensor<8192xf32>, tensor<5x8192xi8>, tensor<5x64xf32>, tensor<5x64xf32>) -> tensor<5xf32>
  return %y : tensor<5xf32>
}

// -----

// The activation tile is kept within 40 KiB: 2-bit codes (64 per chunk)
// with f32 activations at M = 64 take 32 chunks per step (one per lane) and
// 4 rows per tile: 4 x 32 x (64 + 4) x 4 bytes = 34 KiB.
// CHECK-LABEL: func.func @gemm_tile_budget
// CHECK: gpu.launch_func @squant_kernels::@qmatmul_warp_per_row blocks in (%c2{{.*}}, %c16{{.*}}, %c1{{.*}}) threads in (%c32{{.*}}, %c4{{.*}}, %c1{{.*}})
// CHECK: workgroup(%{{.*}} : memref<4x32x68xf32, #gpu.address_space<workgroup>>)
func.func @gemm_tile_budget(%x: tensor<64x4096xf32>, %p: tensor<8x1024xi8>, %s: tensor<8x32xf32>, %b: tensor<8x32xf32>) -> tensor<64x8xf32> {
  %q = squant.unpack %p layout <order = lsb_first, bits = 2, storage = unsigned> : tensor<8x1024xi8> -> tensor<8x4096xi8>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 2, storage = unsigned, axis = 1, group_size = 128>)
      : (tensor<64x4096xf32>, tensor<8x4096xi8>, tensor<8x32xf32>, tensor<8x32xf32>) -> tensor<64x8xf32>
  return %y : tensor<64x8xf32>
}

// -----

// Elementwise ops: one thread per element (ceil(256 / 256) = 1 block), the
// element delinearized, the CPU's element function (tinygemm's
// fl(fl((q - mid) s) + zp) with its roundings to bf16).
// CHECK-LABEL: func.func @dequantize
// CHECK: gpu.launch_func @squant_kernels::@dequantize_kernel blocks in (%c1{{.*}}, %c1, %c1) threads in (%c256, %c1, %c1)
// CHECK: gpu.func @dequantize_kernel(%{{.*}}: memref<4x64xi4>, %{{.*}}: memref<4x2xbf16>, %{{.*}}: memref<4x2xbf16>, %{{.*}}: memref<4x64xbf16>) kernel
// CHECK: arith.cmpi ult
// CHECK: arith.remui
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: arith.truncf {{.*}} : f32 to bf16
// CHECK: arith.addf
// CHECK: memref.store {{.*}} : memref<4x64xbf16>
func.func @dequantize(%q: tensor<4x64xi4>, %s: tensor<4x2xbf16>, %z: tensor<4x2xbf16>) -> tensor<4x64xbf16> {
  %0 = squant.dequantize %q, %s, %z scheme <float_zero_point, bits = 4, storage = unsigned, axis = 1, group_size = 32> : tensor<4x64xi4>, tensor<4x2xbf16>, tensor<4x2xbf16> -> tensor<4x64xbf16>
  return %0 : tensor<4x64xbf16>
}

// -----

func.func @dynamic(%x: tensor<?x64xf32>, %q: tensor<13x64xi8>, %s: tensor<13x2xf32>, %b: tensor<13x2xf32>) -> tensor<?x13xf32> {
  // expected-error @+1 {{cannot be lowered to GPU kernels with dynamic shapes}}
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 4, axis = 1, group_size = 32>)
      : (tensor<?x64xf32>, tensor<13x64xi8>, tensor<13x2xf32>, tensor<13x2xf32>) -> tensor<?x13xf32>
  return %y : tensor<?x13xf32>
}

// -----

func.func @pack(%q: tensor<4x64xi8>) -> tensor<4x32xi8> {
  // expected-error @+1 {{has no GPU lowering}}
  %p = squant.pack %q layout <order = lsb_first, bits = 4> : tensor<4x64xi8> -> tensor<4x32xi8>
  return %p : tensor<4x32xi8>
}
