#include "kernels/matmul.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "common/dtype.h"
#include "memory/q8_panels.h"

namespace dse {

namespace {

constexpr int64_t kRowTile = 64;    // weight rows kept hot in L2 while tokens stream past
constexpr int64_t kTokenTile = 32;  // activations reused across the row tile

#if defined(__x86_64__)
struct CpuRegs {
  unsigned a = 0, b = 0, c = 0, d = 0;
};
CpuRegs cpuid(unsigned leaf, unsigned sub) {
  CpuRegs r;
  if (__get_cpuid_max(0, nullptr) >= leaf) __cpuid_count(leaf, sub, r.a, r.b, r.c, r.d);
  return r;
}
// XCR0: which register states the OS saves on a context switch. A CPU flag alone is not enough: a
// kernel that does not save ZMM state would corrupt the registers of every thread.
unsigned long long xcr0() {
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<unsigned long long>(hi) << 32) | lo;
}
#endif

// Once per process (cached by simd_available's static).
SimdLevel detect_simd() {
#if defined(__x86_64__) && defined(DSE_HAVE_AVX2_TU)
  const CpuRegs l1 = cpuid(1, 0);
  if (!(l1.c & (1u << 27))) return SimdLevel::kNone;  // OSXSAVE: xgetbv usable
  const unsigned long long xcr = xcr0();
  const bool os_ymm = (xcr & 0x6) == 0x6;         // SSE + AVX state
  const bool os_zmm = (xcr & 0xe6) == 0xe6;       // + opmask, ZMM_Hi256, Hi16_ZMM
  const CpuRegs l7 = cpuid(7, 0), l71 = cpuid(7, 1);
  const bool avx2 = os_ymm && (l7.b & (1u << 5)) && (l1.c & (1u << 12));  // AVX2, FMA
  if (!avx2) return SimdLevel::kNone;
#if defined(DSE_HAVE_AVX512_TU)
  const bool f = os_zmm && (l7.b & (1u << 16));
  const bool bw_vl = (l7.b & (1u << 30)) && (l7.b & (1u << 31));
  const bool vnni = l7.c & (1u << 11), bf16 = l71.a & (1u << 5);
#if defined(DSE_HAVE_AVX512DOT_TU)
  if (f && bw_vl && vnni && bf16) return SimdLevel::kAvx512Dot;
#endif
  if (f) return SimdLevel::kAvx512;
#endif
  return SimdLevel::kAvx2;
#else
  return SimdLevel::kNone;
#endif
}

SimdLevel cpu_simd() {
  static const SimdLevel level = detect_simd();
  return level;
}

// Default: the dot-product kernels where the CPU has them (they double the multiply-adds per
// instruction); otherwise AVX2 even where AVX-512F exists: on this project's Xeon the 512-bit
// widen-then-FMA kernel is only ~7% faster for bf16 prefill and no faster for decode (memory bound),
// while older Xeons lower the clock of the whole core under AVX-512. DSE_SIMD overrides.
int initial_simd() {
  const int best = static_cast<int>(cpu_simd());
  const char* env = std::getenv("DSE_SIMD");
  int want = best == static_cast<int>(SimdLevel::kAvx512Dot) ? best : std::min(best, static_cast<int>(SimdLevel::kAvx2));
  if (env && std::strcmp(env, "avx512dot") == 0) want = static_cast<int>(SimdLevel::kAvx512Dot);
  if (env && std::strcmp(env, "avx512") == 0) want = static_cast<int>(SimdLevel::kAvx512);
  if (env && std::strcmp(env, "avx2") == 0) want = static_cast<int>(SimdLevel::kAvx2);
  if (env && std::strcmp(env, "none") == 0) want = static_cast<int>(SimdLevel::kNone);
  return std::min(want, best);
}

std::atomic<int>& simd_flag() {
  static std::atomic<int> flag{initial_simd()};
  return flag;
}

template <typename Load>
void tile_generic(const Load& load, int64_t cols, const float* x, int64_t row_begin, int64_t row_end,
                  int64_t t_begin, int64_t t_end, int64_t rows, float* y) {
  for (int64_t o = row_begin; o < row_end; ++o) {
    for (int64_t t = t_begin; t < t_end; ++t) {
      const float* xr = x + t * cols;
      float acc = 0.f;
      for (int64_t i = 0; i < cols; ++i) acc += load(o, i) * xr[i];
      y[t * rows + o] = acc;
    }
  }
}

void add_bias(const float* bias, int64_t T, int64_t rows, int64_t r0, int64_t r1, float* y) {
  for (int64_t t = 0; t < T; ++t)
    for (int64_t o = r0; o < r1; ++o) y[t * rows + o] += bias[o];
}

// Decode rows handed out in shrinking pieces: each claim takes a share of what is left (the first
// ones long, so each thread streams long runs), down to `grain` rows at the end. The threads then
// finish within a small piece of each other (~50 KB, microseconds), and the one that waits at the
// end of the op is still spinning when the other is done, instead of asleep: with fixed 256-row
// tiles the gap was up to one tile (768 KB, ~40 us), longer than the pool's spin, and each late
// finisher paid a futex wake-up (tens of microseconds on a VM) on ~200 ops per token.
class RowQueue {
 public:
  RowQueue(int64_t rows, int64_t grain, int threads) : rows_(rows), grain_(grain), div_(2 * threads) {}
  // Claims rows [r0, r1); false when none are left. Pieces are multiples of the grain, so whole
  // panels (int8) and whole four-row groups (bf16) until the last.
  bool claim(int64_t& r0, int64_t& r1) {
    int64_t at = next_.load(std::memory_order_relaxed);
    for (;;) {
      if (at >= rows_) return false;
      const int64_t end = std::min(rows_, at + std::max(grain_, (rows_ - at) / div_ / grain_ * grain_));
      if (next_.compare_exchange_weak(at, end, std::memory_order_relaxed)) {
        r0 = at;
        r1 = end;
        return true;
      }
    }
  }

 private:
  std::atomic<int64_t> next_{0};
  const int64_t rows_, grain_, div_;
};

// Runs rows(r0, r1) over [0, n_rows) on the pool in RowQueue pieces (decode), or inline.
template <typename Rows>
void decode_rows(int64_t n_rows, int64_t grain, ThreadPool* pool, const Rows& rows) {
  if (!pool || n_rows <= grain) return rows(0, n_rows);
  RowQueue queue(n_rows, grain, pool->size());
  pool->parallel_for(pool->size(), [&](int64_t, int64_t) {
    for (int64_t r0, r1; queue.claim(r0, r1);) rows(r0, r1);
  });
}

// int8 weights in the panel layout: the VNNI kernel over whole panels (all tokens of a row tile in
// one call, which picks its own register tiles), or, where another level was chosen after load, that
// level's row kernel on the tile's rows unpacked into a scratch buffer (y offset by the tile's
// first row, so the row kernel indexes the buffer from 0).
void matmul_panels(const Weight& w, const float* x, int64_t T, float* y, const float* bias, ThreadPool* pool,
                   SimdLevel simd) {
  const bool vnni = simd == SimdLevel::kAvx512Dot;
  // Decode: rows in shrinking pieces of whole panels (RowQueue); prefill: fixed tiles.
  const int64_t nb = q8_blocks(w.cols);
  thread_local std::vector<int8_t> xq_buf;  // a thread_local is not captured: the pool gets pointers
  thread_local std::vector<float> xs_buf;
  thread_local std::vector<int32_t> xsum_buf;
  if (vnni) {
    xq_buf.resize(static_cast<size_t>(T * q8_padded_cols(w.cols)));
    xs_buf.resize(static_cast<size_t>(T * nb));
    xsum_buf.resize(static_cast<size_t>(T * nb));
    detail::quantize_q8_panels_x(x, T, w.cols, xq_buf.data(), xs_buf.data(), xsum_buf.data());
  }
  const int8_t* xq = xq_buf.data();
  const float* xs = xs_buf.data();
  const int32_t* xsum = xsum_buf.data();
  auto rows = [&](int64_t r0, int64_t r1) {
    thread_local std::vector<int8_t> q;
    thread_local std::vector<float> s;
    if (vnni) {
      detail::matmul_q8_panels(w.i8.data(), w.scale.data(), xq, xs, xsum, w.rows, w.cols, r0, r1, 0, T, y);
    } else {
      for (int64_t a = r0; a < r1; a += kRowTile) {  // unpacked a row tile at a time
        const int64_t b = std::min(r1, a + kRowTile), n = b - a;
        q.resize(static_cast<size_t>(n * w.cols));
        s.resize(static_cast<size_t>(n * nb));
        unpack_q8_rows(w, a, b, q.data(), s.data());
        const int8_t* qd = q.data();
        const float* sd = s.data();
        const int64_t cols = w.cols;
        for (int64_t t0 = 0; t0 < T; t0 += kTokenTile) {
          const int64_t t1 = std::min(T, t0 + kTokenTile);
          if (simd >= SimdLevel::kAvx512)
            detail::matmul_tile_avx512(WFormat::kI8, qd, sd, w.rows, cols, x, 0, n, t0, t1, y + a);
          else if (simd == SimdLevel::kAvx2)
            detail::matmul_tile_avx2(WFormat::kI8, qd, sd, w.rows, cols, x, 0, n, t0, t1, y + a);
          else
            tile_generic([qd, sd, cols, nb](int64_t o, int64_t i) { return qd[o * cols + i] * sd[o * nb + i / kQ8Block]; },
                         cols, x, 0, n, t0, t1, w.rows, y + a);
        }
      }
    }
    if (bias) add_bias(bias, T, w.rows, r0, r1, y);
  };
  if (T == 1) return decode_rows(w.rows, kQ8PanelRows, pool, rows);
  auto body = [&](int64_t tb, int64_t te) {
    for (int64_t tile = tb; tile < te; ++tile) rows(tile * kRowTile, std::min(w.rows, (tile + 1) * kRowTile));
  };
  const int64_t n_tiles = (w.rows + kRowTile - 1) / kRowTile;
  if (pool) pool->parallel_for(n_tiles, body);
  else body(0, n_tiles);
}

}  // namespace

void use_kernel_layout(Weight& w) {
  if (w.format == WFormat::kI8 && simd_level() == SimdLevel::kAvx512Dot) pack_q8_panels(w);
}

SimdLevel simd_available() { return cpu_simd(); }
void set_simd_level(SimdLevel level) {
  simd_flag().store(std::min(static_cast<int>(level), static_cast<int>(cpu_simd())));
}
SimdLevel simd_level() { return static_cast<SimdLevel>(simd_flag().load()); }
const char* simd_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::kAvx512Dot: return "AVX-512 dot products (BF16, VNNI)";
    case SimdLevel::kAvx512: return "AVX-512F";
    case SimdLevel::kAvx2: return "AVX2+FMA";
    default: return "none (portable kernels)";
  }
}

namespace detail {

void matmul_tile_portable(const Weight& w, const float* x, int64_t row_begin, int64_t row_end, int64_t t_begin,
                          int64_t t_end, float* y) {
  const int64_t cols = w.cols;
  switch (w.format) {
    case WFormat::kF32: {
      const float* d = w.f32.data();
      tile_generic([d, cols](int64_t o, int64_t i) { return d[o * cols + i]; }, cols, x, row_begin, row_end, t_begin,
                   t_end, w.rows, y);
      break;
    }
    case WFormat::kBF16: {
      const uint16_t* d = w.bf16.data();
      tile_generic([d, cols](int64_t o, int64_t i) { return bf16_to_f32(d[o * cols + i]); }, cols, x, row_begin,
                   row_end, t_begin, t_end, w.rows, y);
      break;
    }
    case WFormat::kI8: {
      const int8_t* d = w.i8.data();
      const float* s = w.scale.data();
      const int64_t nb = q8_blocks(cols);
      tile_generic([d, s, cols, nb](int64_t o, int64_t i) { return d[o * cols + i] * s[o * nb + i / kQ8Block]; }, cols,
                   x, row_begin, row_end, t_begin, t_end, w.rows, y);
      break;
    }
  }
}

}  // namespace detail

void matmul(const Weight& w, const float* x, int64_t T, float* y, const float* bias, ThreadPool* pool) {
  if (T <= 0 || w.rows == 0) return;
  const SimdLevel simd = simd_level();
  if (w.format == WFormat::kI8 && w.panels) return matmul_panels(w, x, T, y, bias, pool, simd);
  const void* wdata = w.format == WFormat::kF32    ? static_cast<const void*>(w.f32.data())
                      : w.format == WFormat::kBF16 ? static_cast<const void*>(w.bf16.data())
                                                   : static_cast<const void*>(w.i8.data());
  // Decode: rows in shrinking pieces (RowQueue). Prefill: whole row tiles taken in turn.
  const int64_t row_tile = kRowTile;
  const int64_t n_tiles = (w.rows + row_tile - 1) / row_tile;
  // vdpbf16ps multiplies bf16 by bf16: round the activations once per call, not once per tile.
  const bool bf16dot = simd == SimdLevel::kAvx512Dot && w.format == WFormat::kBF16;
  thread_local std::vector<uint16_t> xb_buf;  // a thread_local is not captured: the pool gets a pointer
  const uint16_t* xb = nullptr;
  if (bf16dot) {
    xb_buf.resize(static_cast<size_t>(T * w.cols));
    detail::round_bf16_dot(x, T * w.cols, xb_buf.data());
    xb = xb_buf.data();
  }
  auto rows = [&](int64_t r0, int64_t r1) {
    for (int64_t t0 = 0; t0 < T; t0 += kTokenTile) {
      int64_t t1 = std::min(T, t0 + kTokenTile);
      if (bf16dot)
        detail::matmul_tile_bf16dot(w.bf16.data(), xb, w.rows, w.cols, r0, r1, t0, t1, y);
      else if (simd >= SimdLevel::kAvx512)
        detail::matmul_tile_avx512(w.format, wdata, w.scale.data(), w.rows, w.cols, x, r0, r1, t0, t1, y);
      else if (simd == SimdLevel::kAvx2)
        detail::matmul_tile_avx2(w.format, wdata, w.scale.data(), w.rows, w.cols, x, r0, r1, t0, t1, y);
      else
        detail::matmul_tile_portable(w, x, r0, r1, t0, t1, y);
    }
    if (bias) add_bias(bias, T, w.rows, r0, r1, y);
  };
  // 16 rows: whole four-row groups of the decode kernels until the last piece
  if (T == 1) return decode_rows(w.rows, 16, pool, rows);
  auto body = [&](int64_t tb, int64_t te) {
    for (int64_t tile = tb; tile < te; ++tile) rows(tile * row_tile, std::min(w.rows, (tile + 1) * row_tile));
  };
  if (!pool || n_tiles == 1) {
    body(0, n_tiles);
    return;
  }
  // Tiles go to whichever thread asks next rather than in fixed halves: a thread the OS deschedules
  // for a while (a busy machine) or that streams slower no longer leaves the other idle at the end.
  std::atomic<int64_t> next{0};
  pool->parallel_for(pool->size(), [&](int64_t, int64_t) {
    for (int64_t t; (t = next.fetch_add(1, std::memory_order_relaxed)) < n_tiles;) body(t, t + 1);
  });
}

void matmul_reference(const Weight& w, const float* x, int64_t T, float* y, const float* bias) {
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t o = 0; o < w.rows; ++o) {
    w.row_f32(o, row.data());
    for (int64_t t = 0; t < T; ++t) {
      double acc = bias ? bias[o] : 0.0;
      for (int64_t i = 0; i < w.cols; ++i) acc += static_cast<double>(row[i]) * x[t * w.cols + i];
      y[t * w.rows + o] = static_cast<float>(acc);
    }
  }
}

}  // namespace dse
