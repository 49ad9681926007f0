// RUN: squant-opt %s --convert-squant-to-vector=target=avx512 --split-input-file | FileCheck %s
// RUN: squant-opt %s --convert-squant-to-vector=target=generic --split-input-file | FileCheck %s --check-prefix=GENERIC
// RUN: squant-opt %s --convert-squant-to-vector=target=avx2 --split-input-file | FileCheck %s --check-prefix=AVX2

// GEMV, fma form: rows in parallel blocks of 4, codes decoded to f32 in
// 16-lane registers, x·q accumulated per group, then one FMA with the group
// scale (s·Σ x·q); after the K loop, the bias term Σ_g b·Σx (Σx per group
// computed once per call) 16 groups per vector FMA (masked: 2 groups). Row r
// of block i is i + 4r (N = 13: 4 blocks, rows clamped to 12), so that
// consecutive blocks read four linear streams; each group's codes in the
// rows that follow are prefetched.
// CHECK-LABEL: func.func @gemv_fma
// CHECK-SAME: (%[[X:.*]]: tensor<1x64xf32>
// CHECK: %[[XB:.*]] = bufferization.to_buffer %[[X]] read_only : tensor<1x64xf32> to memref<1x64xf32>
// CHECK: memref.alloc() : memref<1x13xf32>
// CHECK: %[[XSUM:.*]] = memref.alloc() : memref<1x2xf32>
// CHECK: vector.reduction <add>
// CHECK: memref.store {{.*}}, %[[XSUM]]
// CHECK: %[[BLOCKS:.*]] = arith.constant 4 : index
// CHECK: scf.parallel (%[[BLK:.*]]) = (%{{.*}}) to (%[[BLOCKS]]) step
// CHECK: %[[FOUR:.*]] = arith.constant 4 : index
// CHECK-NEXT: arith.addi %[[BLK]], %[[FOUR]] : index
// CHECK: %[[EIGHT:.*]] = arith.constant 8 : index
// CHECK-NEXT: arith.addi %[[BLK]], %[[EIGHT]] : index
// CHECK: scf.for {{.*}} iter_args
// CHECK-COUNT-4: memref.prefetch {{.*}}, read, locality<3>, data : memref<13x64xi8>
// CHECK: vector.load %[[XB]]{{.*}} : memref<1x64xf32>, vector<16xf32>
// CHECK: vector.load {{.*}} : memref<13x64xi8>, vector<16xi8>
// CHECK: arith.extui {{.*}} : vector<16xi8> to vector<16xi32>
// CHECK: arith.sitofp {{.*}} : vector<16xi32> to vector<16xf32>
// CHECK: vector.fma {{.*}} : vector<16xf32>
// CHECK: vector.broadcast {{.*}} : f32 to vector<16xf32>
// CHECK: vector.fma
// CHECK-NOT: math.fma {{.*}} : f32
// CHECK: vector.maskedload {{.*}} : memref<13x2xf32>, vector<16xi1>, vector<16xf32>
// CHECK: vector.maskedload %[[XSUM]]
// CHECK: vector.fma
// CHECK: vector.reduction <add>
// CHECK: bufferization.to_tensor {{.*}} restrict writable
// CHECK-NOT: vector.gather
// CHECK-NOT: squant.
func.func @gemv_fma(%x: tensor<1x64xf32>, %q: tensor<13x64xi8>, %s: tensor<13x2xf32>, %b: tensor<13x2xf32>) -> tensor<1x13xf32> {
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 32>)
      : (tensor<1x64xf32>, tensor<13x64xi8>, tensor<13x2xf32>, tensor<13x2xf32>) -> tensor<1x13xf32>
  return %y : tensor<1x13xf32>
}

// -----

// Packed 3-bit msb_first codes read in their bytes: 16 codes = 6 bytes,
// widened to i32 and spread to lanes by constant shuffles (low and high byte
// of each code's window), shifted per lane and masked on whole registers;
// the sign restored with xor/sub. The unpack disappears.
// CHECK-LABEL: func.func @gemv_packed_3bit
// CHECK-NOT: squant.unpack
// CHECK: vector.load {{.*}} : memref<13x24xi8>, vector<6xi8>
// CHECK: arith.extui {{.*}} : vector<6xi8> to vector<6xi32>
// CHECK: vector.shuffle {{.*}} [0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5] : vector<6xi32>, vector<6xi32>
// CHECK: vector.shuffle {{.*}} [1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4, 5, 5, 5, 5, 5] : vector<6xi32>, vector<6xi32>
// CHECK: arith.shli
// CHECK: arith.ori
// CHECK: arith.constant dense<[13, 10, 7, 12, 9, 6, 11, 8, 13, 10, 7, 12, 9, 6, 11, 8]> : vector<16xi32>
// CHECK: arith.shrui
// CHECK: arith.andi
// CHECK: arith.xori
// CHECK: arith.subi
// CHECK: vector.fma
func.func @gemv_packed_3bit(%x: tensor<64xf32>, %p: tensor<13x24xi8>, %s: tensor<13x2xf32>, %b: tensor<13x2xf32>) -> tensor<13xf32> {
  %q = squant.unpack %p layout <order = msb_first, bits = 3> : tensor<13x24xi8> -> tensor<13x64xi8>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 3, axis = 1, group_size = 32>)
      : (tensor<64xf32>, tensor<13x64xi8>, tensor<13x2xf32>, tensor<13x2xf32>) -> tensor<13xf32>
  return %y : tensor<13xf32>
}

// -----

// Byte-window decode (lsb_first, odd widths): the chunk's 6 bytes in one
// masked 8-byte load; one byte shuffle gives lane l the four bytes from the
// one holding code l's first bit (x86: vpermb, or vpshufb), a shift puts
// the code at bit 0, and on AVX-512 its low 4 bits index a table of the
// codes' values periodic in 8 (sign included): no mask, sign fix-up or
// conversion. Lanes stay in code order.
// CHECK-LABEL: func.func @gemv_packed_3bit_window
// CHECK: vector.maskedload {{.*}} : memref<13x24xi8>, vector<8xi1>, vector<8xi8> into vector<8xi8>
// CHECK: vector.shuffle {{.*}} [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 2, 3, 4, 5, 2, 3, 4, 5, 3, 4, 5, 5, 3, 4, 5, 5, 3, 4, 5, 5, 4, 5, 5, 5, 4, 5, 5, 5, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5] : vector<8xi8>, vector<8xi8>
// CHECK: vector.bitcast {{.*}} : vector<64xi8> to vector<16xi32>
// CHECK: arith.constant dense<[0, 3, 6, 1, 4, 7, 2, 5, 0, 3, 6, 1, 4, 7, 2, 5]> : vector<16xi32>
// CHECK: arith.shrui
// CHECK-NOT: arith.xori
// CHECK-NOT: arith.andi
// CHECK: call @llvm.x86.avx512.permvar.sf.512
// CHECK: vector.fma
func.func @gemv_packed_3bit_window(%x: tensor<64xf32>, %p: tensor<13x24xi8>, %s: tensor<13x2xf32>, %b: tensor<13x2xf32>) -> tensor<13xf32> {
  %q = squant.unpack %p layout <order = lsb_first, bits = 3> : tensor<13x24xi8> -> tensor<13x64xi8>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 3, axis = 1, group_size = 32>)
      : (tensor<64xf32>, tensor<13x64xi8>, tensor<13x2xf32>, tensor<13x2xf32>) -> tensor<13xf32>
  return %y : tensor<13xf32>
}

// -----

// Broadcast decode (AVX-512, 4-bit lsb_first codes, hoisted path): x is
// converted to f32 with each 16-lane chunk permuted once per call (lane l
// takes code (l mod 2)·8 + l/2); per 16 codes the chunk's two words are
// broadcast to the lanes, shifted per lane and looked up (vpermps) in the
// codes' values: no byte spreading, no mask (vpermps reads 4 index bits),
// no int-to-float conversion. The generic target keeps the spreading decode.
// CHECK-LABEL: func.func @gemv_packed_4bit_broadcast
// CHECK: %[[XP:.*]] = memref.alloc() : memref<1x64xf32>
// CHECK: vector.shuffle {{.*}} [0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15] : vector<16xf32>, vector<16xf32>
// CHECK: vector.store {{.*}}, %[[XP]]
// CHECK: scf.parallel
// CHECK: %[[BYTES:.*]] = vector.load {{.*}} : memref<13x32xi8>, vector<8xi8>
// CHECK: %[[WORDS:.*]] = vector.bitcast %[[BYTES]] : vector<8xi8> to vector<2xi32>
// CHECK: %[[SPREAD:.*]] = vector.shuffle %[[WORDS]], %[[WORDS]] [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]
// CHECK: %[[IDX:.*]] = arith.shrui %[[SPREAD]], %{{.*}} : vector<16xi32>
// CHECK-NEXT: call @llvm.x86.avx512.permvar.sf.512(%{{.*}}, %[[IDX]]) : (vector<16xf32>, vector<16xi32>) -> vector<16xf32>
// CHECK: vector.fma
// GENERIC-LABEL: func.func @gemv_packed_4bit_broadcast
// GENERIC-NOT: memref.alloc() : memref<1x64xf32>
// GENERIC: arith.shrui {{.*}} : vector<4xi32>
// GENERIC: arith.sitofp {{.*}} : vector<4xi32> to vector<4xf32>
func.func @gemv_packed_4bit_broadcast(%x: tensor<64xf16>, %p: tensor<13x32xi8>, %s: tensor<13x2xf32>, %b: tensor<13x2xf32>) -> tensor<13xf16> {
  %q = squant.unpack %p layout <order = lsb_first, bits = 4> : tensor<13x32xi8> -> tensor<13x64xi8>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 4, axis = 1, group_size = 32>)
      : (tensor<64xf16>, tensor<13x64xi8>, tensor<13x2xf32>, tensor<13x2xf32>) -> tensor<13xf16>
  return %y : tensor<13xf16>
}

// -----

// LUT form: the int8 table becomes 16 f32 lanes once (repeated, so that
// index bits above the table's width do not matter); on AVX-512 each lookup
// calls vpermps (a declaration named like the LLVM intrinsic), never a
// gather. AVX2 builds the result from variable extracts, which LLVM's x86
// backend turns into vpermps; the generic target compares and selects.
// CHECK: func.func private @llvm.x86.avx512.permvar.sf.512(vector<16xf32>, vector<16xi32>) -> vector<16xf32>
// CHECK-LABEL: func.func @gemv_lut
// CHECK: vector.load {{.*}} : memref<4xi8>, vector<4xi8>
// CHECK: vector.shuffle {{.*}} [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]
// CHECK: call @llvm.x86.avx512.permvar.sf.512
// CHECK-NOT: vector.gather
// AVX2-LABEL: func.func @gemv_lut
// AVX2: vector.extract %{{.*}}[%{{.*}}] : f32 from vector<8xf32>
// AVX2: vector.from_elements {{.*}} : vector<8xf32>
// AVX2-NOT: vector.gather
// GENERIC-LABEL: func.func @gemv_lut
// GENERIC: arith.cmpi eq, {{.*}} : vector<4xi32>
// GENERIC: arith.select {{.*}} : vector<4xi1>, vector<4xf32>
// GENERIC-NOT: vector.gather
func.func @gemv_lut(%x: tensor<1x64xf32>, %q: tensor<13x64xi8>, %s: tensor<13x2xf32>, %t: tensor<4xi8>) -> tensor<1x13xf32> {
  %y = squant.qmatmul %x, %q scales(%s) table(%t) form(#squant.lut<bits = 2, axis = 1, group_size = 32>)
      : (tensor<1x64xf32>, tensor<13x64xi8>, tensor<13x2xf32>, tensor<4xi8>) -> tensor<1x13xf32>
  return %y : tensor<1x13xf32>
}

// -----

// 2 < M < 16 (a vector of activation rows): a panel of 16 weight rows
// dequantized once (one FMA per weight), then 4x4 register tiles of dot
// products over K; rows past N and M are computed on clamped indices and
// not stored.
// CHECK-LABEL: func.func @gemm_panel
// CHECK: scf.parallel
// CHECK: %[[PANEL:.*]] = memref.alloc() : memref<16x100xf32>
// CHECK: math.fma {{.*}} : vector<16xf32>
// CHECK: vector.store {{.*}}, %[[PANEL]]
// K = 100: the group's last 4 codes are a masked tail.
// CHECK: vector.constant_mask [4] : vector<16xi1>
// CHECK: vector.maskedstore %[[PANEL]]
// CHECK: vector.load %[[PANEL]]
// CHECK-COUNT-4: vector.fma
// CHECK: scf.if
// CHECK: memref.store
func.func @gemm_panel(%x: tensor<12x100xf32>, %q: tensor<13x100xi8>, %s: tensor<13x1xf32>, %b: tensor<13x1xf32>) -> tensor<12x13xf32> {
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 4, axis = 1, group_size = 100>)
      : (tensor<12x100xf32>, tensor<13x100xi8>, tensor<13x1xf32>, tensor<13x1xf32>) -> tensor<12x13xf32>
  return %y : tensor<12x13xf32>
}

// -----

// M >= 16 (one vector of activation rows): x transposed once per call into
// slices of 32 activation rows (x^T [2][K][32]) by 16 x 16 tiles: 16 row
// vectors (rows past M clamped to the last, whose outputs are not stored),
// four rounds of two-source shuffles, 16 stores. Weight rows run in blocks
// of 14, here one block per N chunk (3 blocks, fewer than the 4 chunks a
// call has at least), whose scratch tiles ct [1][14][48] carry every
// output across K blocks of 256 columns (4 groups of 64, then the 64
// left). Per K block, the block's weights are decoded into a 14 x 272
// panel (the next block's codes prefetched), then each slice runs over
// the K block: 14 broadcast weights times the slice's two 16-row vectors
// of x^T (28 accumulators in registers), zero in the first K block and
// loaded from ct after it; the last slice has one vector (rows 32..47).
// Stores are guarded (rows past M and N).
// CHECK-LABEL: func.func @gemm_outer
// CHECK: %[[XT:.*]] = memref.alloc() : memref<2x320x32xf32>
// CHECK-COUNT-16: vector.load {{.*}} : memref<40x320xf32>, vector<16xf32>
// CHECK: vector.shuffle {{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]
// CHECK: vector.shuffle {{.*}} [1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31]
// CHECK-COUNT-16: vector.store {{.*}}, %[[XT]]
// CHECK: scf.parallel {{.*}} to (%c3{{.*}})
// CHECK: %[[PANEL:.*]] = memref.alloc() : memref<14x272xf32>
// CHECK: %[[CT:.*]] = memref.alloc() : memref<1x14x48xf32>
// CHECK: scf.for {{.*}} to %c256{{.*}} step %c256
// CHECK: memref.prefetch {{.*}}, read, locality<3>, data : memref<30x320xi8>
// CHECK: math.fma {{.*}} : vector<16xf32>
// CHECK: vector.store {{.*}}, %[[PANEL]]
// CHECK: scf.if {{.*}} -> (vector<16xf32>
// CHECK: vector.load %[[CT]]
// CHECK: vector.load %[[XT]]{{.*}} : memref<2x320x32xf32>, vector<16xf32>
// CHECK: memref.load %[[PANEL]]
// CHECK: vector.broadcast {{.*}} : f32 to vector<16xf32>
// CHECK-COUNT-2: vector.fma
// CHECK: vector.store {{.*}}, %[[CT]]
// The half slice: 14 accumulators.
// CHECK: scf.if {{.*}} -> (vector<16xf32>
// CHECK: vector.load %[[XT]]
// CHECK-NOT: vector.load %[[XT]]
// CHECK-COUNT-14: vector.fma
// CHECK-NOT: vector.fma
// CHECK: scf.yield
// The last 64 columns, continued from ct.
// CHECK: scf.if %false
// CHECK: vector.store {{.*}}, %[[CT]]
// CHECK: memref.load %[[CT]]
// CHECK: scf.if
// CHECK: memref.store
func.func @gemm_outer(%x: tensor<40x320xf32>, %q: tensor<30x320xi8>, %s: tensor<30x5xf32>, %b: tensor<30x5xf32>) -> tensor<40x30xf32> {
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 4, axis = 1, group_size = 64>)
      : (tensor<40x320xf32>, tensor<30x320xi8>, tensor<30x5xf32>, tensor<30x5xf32>) -> tensor<40x30xf32>
  return %y : tensor<40x30xf32>
}

// -----

// Outer products in N chunks and M chunks: N = 100 has 8 blocks of 14 rows,
// spread evenly over 4 chunks (blocks [c·8/4, (c + 1)·8/4)), each with
// scratch tiles ct [2 blocks][14][128 activation rows]. M = 130 pads to
// 144: one M chunk of 4 whole slices (128 rows), then a chunk of one half
// slice (16 rows), each over every K block and block of the N chunk.
// CHECK-LABEL: func.func @gemm_chunks
// CHECK: %[[XT:.*]] = memref.alloc() : memref<5x64x32xf32>
// CHECK: scf.for {{.*}} to %c9
// CHECK: scf.parallel (%[[C:.*]]) = {{.*}} to (%c4)
// CHECK: arith.muli %[[C]], %c8
// CHECK: arith.divui {{.*}}, %c4
// CHECK: %[[PANEL:.*]] = memref.alloc() : memref<14x80xf32>
// CHECK: %[[CT:.*]] = memref.alloc() : memref<2x14x128xf32>
// CHECK: scf.for {{.*}} to %c4{{.*}} step %c4
// CHECK: vector.store {{.*}}, %[[PANEL]]
// CHECK: scf.for {{.*}} to %c4
// CHECK: vector.load %[[CT]]
// CHECK-COUNT-28: vector.fma
// CHECK: memref.load %[[CT]]
// CHECK: vector.store {{.*}}, %[[PANEL]]
// CHECK: vector.load %[[CT]]
// CHECK-COUNT-14: vector.fma
// CHECK-NOT: vector.fma
// CHECK: memref.load %[[CT]]
func.func @gemm_chunks(%x: tensor<130x64xf32>, %q: tensor<100x64xi8>, %s: tensor<100x2xf32>, %b: tensor<100x2xf32>) -> tensor<130x100xf32> {
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 4, axis = 1, group_size = 32>)
      : (tensor<130x64xf32>, tensor<100x64xi8>, tensor<100x2xf32>, tensor<100x2xf32>) -> tensor<130x100xf32>
  return %y : tensor<130x100xf32>
}

// -----

// Elementwise ops become scalar loops with the reference sequence: tinygemm
// dequantize is fl(fl((q - mid)·s) + zp), two roundings, no FMA.
// CHECK-LABEL: func.func @dequantize_tinygemm
// CHECK: scf.for
// CHECK: scf.for
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: arith.truncf {{.*}} to bf16
// CHECK: arith.addf
// CHECK: arith.truncf {{.*}} to bf16
// CHECK-NOT: math.fma
func.func @dequantize_tinygemm(%q: tensor<4x64xi8>, %s: tensor<4x2xbf16>, %z: tensor<4x2xbf16>) -> tensor<4x64xbf16> {
  %w = squant.dequantize %q, %s, %z scheme <float_zero_point, bits = 4, storage = unsigned, axis = 1, group_size = 32>
      : tensor<4x64xi8>, tensor<4x2xbf16>, tensor<4x2xbf16> -> tensor<4x64xbf16>
  return %w : tensor<4x64xbf16>
}

// -----

// i4 codes one per element (upstream quant storage) are widened to i8
// before the kernel: memrefs keep them a byte apart, vectors would pack them.
// CHECK-LABEL: func @i4_codes_widened
// CHECK: %[[W:.*]] = arith.extui %{{.*}} : tensor<4x32xi4> to tensor<4x32xi8>
// CHECK: bufferization.to_buffer %[[W]]
func.func @i4_codes_widened(%x: tensor<1x32xf32>, %q: tensor<4x32xi4>, %s: tensor<4x1xf32>, %b: tensor<4x1xf32>) -> tensor<1x4xf32> {
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 4, storage = unsigned, axis = 1, group_size = 32>)
      : (tensor<1x32xf32>, tensor<4x32xi4>, tensor<4x1xf32>, tensor<4x1xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

// Outer-product path with broadcast decode (AVX-512, 4-bit lsb_first): the
// panel holds each 16-code chunk in broadcast lane order, so the transpose
// permutes each chunk of x the same way as it loads it; decode is a
// broadcast, a shift and a lookup of the codes' values, then one FMA with
// the group's scale and bias.
// CHECK-LABEL: func.func @gemm_outer_broadcast
// CHECK: %[[XT:.*]] = memref.alloc() : memref<1x64x32xf32>
// CHECK: vector.load {{.*}} : memref<16x64xf32>, vector<16xf32>
// CHECK-NEXT: vector.shuffle {{.*}} [0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15] : vector<16xf32>, vector<16xf32>
// CHECK: vector.store {{.*}}, %[[XT]]
// CHECK: scf.parallel
// The panel holds one K block (here all of K = 64) at a time.
// CHECK: memref.alloc() : memref<14x80xf32>
// CHECK: vector.bitcast {{.*}} : vector<8xi8> to vector<2xi32>
// CHECK: vector.shuffle {{.*}} [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]
// CHECK: call @llvm.x86.avx512.permvar.sf.512
// CHECK: math.fma {{.*}} : vector<16xf32>
// CHECK: vector.load %[[XT]]
func.func @gemm_outer_broadcast(%x: tensor<16x64xf32>, %p: tensor<13x32xi8>, %s: tensor<13x2xf32>, %b: tensor<13x2xf32>) -> tensor<16x13xf32> {
  %q = squant.unpack %p layout <order = lsb_first, bits = 4> : tensor<13x32xi8> -> tensor<13x64xi8>
  %y = squant.qmatmul %x, %q scales(%s) bias(%b) form(#squant.fma<bits = 4, axis = 1, group_size = 32>)
      : (tensor<16x64xf32>, tensor<13x64xi8>, tensor<13x2xf32>, tensor<13x2xf32>) -> tensor<16x13xf32>
  return %y : tensor<16x13xf32>
}
