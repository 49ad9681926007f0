// RUN: squant-capi-test | FileCheck %s

// The C API: the dialect handle registers squant, the IR parses, and a
// squant pass named in a textual pipeline runs.
// CHECK-LABEL: func.func @f
// CHECK: %[[B:.*]] = arith.mulf
// CHECK: squant.fma_dequantize %{{.*}}, %{{.*}}, %[[B]] form(<bits = 2, axis = 1, group_size = 32>)
