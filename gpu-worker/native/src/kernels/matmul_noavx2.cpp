// Stand-in for non-x86 targets or compilers without -mavx2: never called, because the run-time
// check reports no SIMD when this file is linked instead of matmul_avx2.cpp.
#include "common/error.h"
#include "kernels/matmul.h"

namespace dse {
namespace detail {

void matmul_tile_avx2(WFormat, const void*, const float*, int64_t, int64_t, const float*, int64_t, int64_t, int64_t,
                      int64_t, float*) {
  fail(ErrorKind::kInternal, "AVX2 kernel not built for this target");
}

}  // namespace detail
}  // namespace dse
