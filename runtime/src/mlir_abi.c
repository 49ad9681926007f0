/*===- mlir_abi.c - Entry points for code lowered from squant --------------===//
 *
 * convert-squant-to-runtime emits calls to these functions with MLIR's C
 * interface (llvm.emit_c_interface): each memref argument arrives as a
 * pointer to its descriptor. They are thin adapters to the public API: they
 * read the descriptors, allocate the qgemm workspace (the kernels never
 * allocate), run on the calling thread, and abort with a message on a bad
 * status, which lowered code cannot handle (the lowering checks shapes and
 * forms at compile time, so it indicates a bug).
 *
 *===----------------------------------------------------------------------===*/

#include "squant/runtime/squant_rt.h"

#include <stdio.h>
#include <stdlib.h>

/* MLIR's ranked memref descriptors. */
typedef struct {
  float *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
} SquantMemRefF32x2;
typedef struct {
  float *allocated, *aligned;
  int64_t offset, sizes[1], strides[1];
} SquantMemRefF32x1;
typedef struct {
  uint16_t *allocated, *aligned; /* bf16 bits */
  int64_t offset, sizes[2], strides[2];
} SquantMemRefBF16x2;
typedef struct {
  int8_t *allocated, *aligned;
  int64_t offset, sizes[1], strides[1];
} SquantMemRefI8x1;
typedef struct {
  int8_t *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
} SquantMemRefI8x2;

static void check(squant_rt_status status, const char *what) {
  if (status != SQUANT_RT_OK) {
    fprintf(stderr, "squant_rt: %s failed with status %d\n", what, (int)status);
    abort();
  }
}

void _mlir_ciface_squant_rt_pack_block32_memref(SquantMemRefI8x2 *codes,
                                                SquantMemRefI8x1 *out,
                                                int32_t bits) {
  if (codes->strides[1] != 1 || codes->strides[0] != codes->sizes[1] ||
      out->strides[0] != 1)
    check(SQUANT_RT_INVALID_ARGUMENT, "pack (non-contiguous codes)");
  check(squant_rt_pack_block32(codes->aligned + codes->offset, codes->sizes[0],
                               codes->sizes[1], bits,
                               (uint8_t *)(out->aligned + out->offset),
                               (size_t)out->sizes[0]),
        "pack");
}

/* The weight the lowered call describes: BLOCK32_V1 codes with separate
 * parameters, or TILE16_V2 (scales and biases inside the packed codes;
 * their operands are empty). */
static squant_rt_qweight
weightOf(int64_t n, int64_t k, SquantMemRefI8x1 *codes,
         SquantMemRefF32x1 *scales, SquantMemRefF32x1 *biasOrTable,
         SquantMemRefI8x1 *table, int32_t form, int32_t bits, int32_t isSigned,
         int64_t groupSize, int64_t numTables, int32_t layout) {
  squant_rt_qweight w = {0};
  w.layout = layout;
  int inlineParams = layout == SQUANT_RT_LAYOUT_TILE16_V2;
  w.form = form;
  w.bits = bits;
  w.is_signed = isSigned;
  w.n = n;
  w.k = k;
  w.group_size = groupSize;
  w.codes = (const uint8_t *)(codes->aligned + codes->offset);
  if (scales->sizes[0] && !inlineParams)
    w.scales = scales->aligned + scales->offset;
  if (form == SQUANT_RT_FORM_FMA && !inlineParams)
    w.bias = biasOrTable->aligned + biasOrTable->offset;
  if (form == SQUANT_RT_FORM_LUT_F32) {
    w.ftable = biasOrTable->aligned + biasOrTable->offset;
    w.num_tables = numTables;
  }
  if (form == SQUANT_RT_FORM_LUT_INT8)
    w.table = table->aligned + table->offset;
  return w;
}

/* One lowered qgemm: x fp32 or bf16 ([m][k], rows x_strides[0] apart),
 * y fp32. */
static void runQgemm(int bf16, const void *x, const int64_t *xSizes,
                     const int64_t *xStrides, SquantMemRefI8x1 *codes,
                     SquantMemRefF32x1 *scales, SquantMemRefF32x1 *biasOrTable,
                     SquantMemRefI8x1 *table, SquantMemRefF32x2 *y,
                     int32_t form, int32_t bits, int32_t isSigned,
                     int64_t groupSize, int64_t numTables, int32_t layout) {
  if (xStrides[1] != 1 || y->strides[1] != 1)
    check(SQUANT_RT_INVALID_ARGUMENT,
          bf16 ? "qgemm_bf16 (inner strides)" : "qgemm (inner strides)");
  squant_rt_qweight w =
      weightOf(y->sizes[1], xSizes[1], codes, scales, biasOrTable, table, form,
               bits, isSigned, groupSize, numTables, layout);
  int64_t m = xSizes[0];
  size_t wsSize = bf16 ? squant_rt_qgemm_bf16_workspace_size(m, &w)
                       : squant_rt_qgemm_workspace_size(m, &w);
  void *ws = wsSize ? malloc(wsSize) : NULL;
  float *yData = y->aligned + y->offset;
  squant_rt_status status =
      bf16 ? squant_rt_qgemm_bf16((const uint16_t *)x, m, xStrides[0], &w,
                                  yData, y->strides[0], ws, wsSize, NULL)
           : squant_rt_qgemm((const float *)x, m, xStrides[0], &w, yData,
                             y->strides[0], ws, wsSize, NULL);
  free(ws);
  check(status, bf16 ? "qgemm_bf16" : "qgemm");
}

void _mlir_ciface_squant_rt_qgemm_memref(
    SquantMemRefF32x2 *x, SquantMemRefI8x1 *codes, SquantMemRefF32x1 *scales,
    SquantMemRefF32x1 *biasOrTable, SquantMemRefI8x1 *table,
    SquantMemRefF32x2 *y, int32_t form, int32_t bits, int32_t isSigned,
    int64_t groupSize, int64_t numTables, int32_t layout) {
  runQgemm(0, x->aligned + x->offset, x->sizes, x->strides, codes, scales,
           biasOrTable, table, y, form, bits, isSigned, groupSize, numTables,
           layout);
}

void _mlir_ciface_squant_rt_qgemm_bf16_memref(
    SquantMemRefBF16x2 *x, SquantMemRefI8x1 *codes, SquantMemRefF32x1 *scales,
    SquantMemRefF32x1 *biasOrTable, SquantMemRefI8x1 *table,
    SquantMemRefF32x2 *y, int32_t form, int32_t bits, int32_t isSigned,
    int64_t groupSize, int64_t numTables, int32_t layout) {
  runQgemm(1, x->aligned + x->offset, x->sizes, x->strides, codes, scales,
           biasOrTable, table, y, form, bits, isSigned, groupSize, numTables,
           layout);
}
