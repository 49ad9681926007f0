/*===- gemv_vnni_vbmi.c - int8-activation GEMV, 3-bit codes --------------===//
 *
 * AVX-512 VNNI and VBMI (vpmultishiftqb places each code's third bit); the
 * kernel and the codes' byte order: gemv_vnni.h.
 *
 *===----------------------------------------------------------------------===*/

#include "gemv_vnni.h"

void squant_rt_gemv_int8_vnni_vbmi(const squant_rt_qgemm_params *p) {
  vnniAll(p, 3);
}
