/*===- gemv_vnni.c - int8-activation GEMV, 2-, 4- and 8-bit codes ---------===//
 *
 * AVX-512 VNNI; the kernel and the codes' byte order: gemv_vnni.h.
 *
 *===----------------------------------------------------------------------===*/

#include "gemv_vnni.h"

void squant_rt_gemv_int8_vnni(const squant_rt_qgemm_params *p) {
  switch (p->w->bits) {
  case 2:
    vnniAll(p, 2);
    return;
  case 4:
    vnniAll(p, 4);
    return;
  default:
    vnniAll(p, 8);
    return;
  }
}
