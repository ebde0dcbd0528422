// Stand-ins for targets or compilers without the x86 SIMD kernels: never called, because the
// run-time check reports no such level when these are linked instead of matmul_avx2/avx512.cpp.
#include "common/error.h"
#include "kernels/amx/amx_matmul.h"
#include "kernels/attention.h"
#include "kernels/matmul.h"

namespace dse {
namespace detail {

#if !defined(DSE_HAVE_AVX2_TU)
void matmul_tile_avx2(WFormat, const void*, const float*, int64_t, int64_t, const float*, int64_t, int64_t, int64_t,
                      int64_t, float*) {
  fail(ErrorKind::kInternal, "AVX2 kernel not built for this target");
}
#endif

#if !defined(DSE_HAVE_AVX512_TU)
void matmul_tile_avx512(WFormat, const void*, const float*, int64_t, int64_t, const float*, int64_t, int64_t, int64_t,
                        int64_t, float*) {
  fail(ErrorKind::kInternal, "AVX-512 kernel not built for this target");
}
void silu_mul_avx512(const float*, const float*, int64_t, float*) {
  fail(ErrorKind::kInternal, "AVX-512 kernel not built for this target");
}
void attention_group_avx512(const float*, int64_t, int64_t, const float*, int64_t, const float*, int64_t, int64_t,
                            int64_t, int64_t, float, float*, float*, int64_t) {
  fail(ErrorKind::kInternal, "AVX-512 kernel not built for this target");
}
#endif

#if !defined(DSE_HAVE_AVX512DOT_TU)
void matmul_tile_bf16dot(const uint16_t*, const uint16_t*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                         float*, int) {
  fail(ErrorKind::kInternal, "AVX-512 dot-product kernel not built for this target");
}
void round_bf16_dot(const float*, int64_t, uint16_t*) {
  fail(ErrorKind::kInternal, "AVX-512 dot-product kernel not built for this target");
}
void matmul_q8_panels(const int8_t*, const int8_t*, const float*, const int32_t*, int64_t, int64_t, int64_t,
                      int64_t, int64_t, int64_t, float*, int) {
  fail(ErrorKind::kInternal, "AVX-512 VNNI kernel not built for this target");
}
void matmul_q8_streams(const Q8Stream*, int, const int8_t*, const float*, const int32_t*, int64_t) {
  fail(ErrorKind::kInternal, "AVX-512 VNNI kernel not built for this target");
}
void quantize_q8_panels_x(const float*, int64_t, int64_t, int8_t*, float*, int32_t*) {
  fail(ErrorKind::kInternal, "AVX-512 VNNI kernel not built for this target");
}
void pack_bf16_panel_avx512(const uint16_t*, int64_t, int64_t, int64_t, uint16_t*) {
  fail(ErrorKind::kInternal, "AVX-512 dot-product kernel not built for this target");
}
#endif

#if !defined(DSE_HAVE_AMX_TU)
void matmul_q8_amx(const int8_t*, const int8_t*, const float*, const int32_t*, int64_t, int64_t, int64_t, int64_t,
                   int64_t, int64_t, float*) {
  fail(ErrorKind::kInternal, "AMX kernel not built for this target");
}
void matmul_bf16_amx(const uint16_t*, const uint16_t*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, float*) {
  fail(ErrorKind::kInternal, "AMX kernel not built for this target");
}
#endif

}  // namespace detail
}  // namespace dse
