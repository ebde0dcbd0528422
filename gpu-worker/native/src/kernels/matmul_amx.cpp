// The AMX kernels on the hardware: AmxHw maps the tile interface (amx/amx_tiles.h) onto the
// intrinsics. This file alone is compiled with -mamx-tile/-mamx-bf16/-mamx-int8 (and the AVX-512 of
// the kAvx512Dot level, for the f32 folds) and is entered only at SimdLevel::kAmx, which needs
// amx_available(): cpuid, XCR0 and the Linux permission request. Each call loads its own tile config
// (tile state is per thread) and releases the tiles at the end, so a thread of the pool holds no tile
// state between calls.
#include <immintrin.h>

#include <vector>

#include "kernels/amx/amx_kernels.h"
#include "kernels/amx/amx_matmul.h"

namespace dse::detail {
namespace {

// GCC's tile intrinsics are asm macros that paste the tile number into the instruction, so it must
// be a literal: each template dispatches to the literal forms. They also declare no memory read, so a
// compiler barrier goes before each load (the tail buffers and packed panels are written just before).
#define DSE_TILE_CASES(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7)
struct AmxHw {
  void config(const amx::TileConfig& c) {
    __asm__ volatile("" ::: "memory");
    _tile_loadconfig(&c);
  }
  void release() { _tile_release(); }
  template <int T> void zero() {
#define DSE_ZERO(n) if constexpr (T == n) _tile_zero(n);
    DSE_TILE_CASES(DSE_ZERO)
#undef DSE_ZERO
  }
  template <int T> void load(const void* p, int64_t stride) {
    __asm__ volatile("" ::: "memory");
#define DSE_LOAD(n) if constexpr (T == n) _tile_loadd(n, p, stride);
    DSE_TILE_CASES(DSE_LOAD)
#undef DSE_LOAD
  }
  template <int T> void store(void* p, int64_t stride) {
#define DSE_STORE(n) if constexpr (T == n) _tile_stored(n, p, stride);
    DSE_TILE_CASES(DSE_STORE)
#undef DSE_STORE
  }
  // The kernels' four products only: C[g][p] = 4 + 2g + p, A[g] = g, B[p] = 2 + p.
  template <int C, int A, int B> void dpbsud() {
    static_assert(C == 4 + 2 * A + (B - 2), "tiles outside the kernels' layout");
    if constexpr (C == 4) _tile_dpbsud(4, 0, 2);
    if constexpr (C == 5) _tile_dpbsud(5, 0, 3);
    if constexpr (C == 6) _tile_dpbsud(6, 1, 2);
    if constexpr (C == 7) _tile_dpbsud(7, 1, 3);
  }
  template <int C, int A, int B> void dpbf16ps() {
    static_assert(C == 4 + 2 * A + (B - 2), "tiles outside the kernels' layout");
    if constexpr (C == 4) _tile_dpbf16ps(4, 0, 2);
    if constexpr (C == 5) _tile_dpbf16ps(5, 0, 3);
    if constexpr (C == 6) _tile_dpbf16ps(6, 1, 2);
    if constexpr (C == 7) _tile_dpbf16ps(7, 1, 3);
  }
};
#undef DSE_TILE_CASES

}  // namespace

void matmul_q8_amx(const int8_t* w, const int8_t* xq, const float* xs, const int32_t* xsum, int64_t rows,
                   int64_t cols, int64_t r0, int64_t r1, int64_t t0, int64_t t1, float* y) {
  AmxHw tiles;
  amx::amx_q8_panels(tiles, reinterpret_cast<const uint8_t*>(w), xq, xs, xsum, rows, cols, r0, r1, t0, t1, y);
  tiles.release();
}

void matmul_bf16_amx(const uint16_t* w, const uint16_t* xb, int64_t rows, int64_t cols, int64_t r0, int64_t r1,
                     int64_t t0, int64_t t1, float* y) {
  thread_local std::vector<uint16_t> packed;
  AmxHw tiles;
  amx::amx_bf16_rows(tiles, w, xb, rows, cols, r0, r1, t0, t1, y, packed, pack_bf16_panel_avx512);
  tiles.release();
}

}  // namespace dse::detail
