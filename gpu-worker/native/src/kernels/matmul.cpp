#include "kernels/matmul.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "common/dtype.h"
#include "kernels/amx/amx_matmul.h"
#include "kernels/decode_pass.h"
#include "memory/q8_panels.h"

namespace dse {

namespace {

using detail::ahead_rows;
using detail::decode_cap;
using detail::first_piece;
using detail::kDecodeGrain;

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

// cpu_simd plus AMX: asked only when something wants the AMX level or the best level, because the
// answer includes asking Linux for the tile state permission (once per process).
SimdLevel best_simd() {
  const SimdLevel cpu = cpu_simd();
  if (cpu == SimdLevel::kAvx512Dot && (amx_emulation() || amx_available())) return SimdLevel::kAmx;
  return cpu;
}
SimdLevel clamp_simd(int want) {
  const SimdLevel limit = want >= static_cast<int>(SimdLevel::kAmx) ? best_simd() : cpu_simd();
  return static_cast<SimdLevel>(std::min(want, static_cast<int>(limit)));
}

// Default: the dot-product kernels where the CPU has them (they double the multiply-adds per
// instruction); otherwise AVX2 even where AVX-512F exists: on this project's Xeon the 512-bit
// widen-then-FMA kernel is only ~7% faster for bf16 prefill and no faster for decode (memory bound),
// while older Xeons lower the clock of the whole core under AVX-512. DSE_SIMD overrides. AMX stays
// opt-in (DSE_SIMD=amx) until its kernels have been proved on an AMX host (ops/amx-check.sh).
int initial_simd() {
  const int best = static_cast<int>(cpu_simd());
  const char* env = std::getenv("DSE_SIMD");
  int want = best == static_cast<int>(SimdLevel::kAvx512Dot) ? best : std::min(best, static_cast<int>(SimdLevel::kAvx2));
  if (env && std::strcmp(env, "amx") == 0) {
    const SimdLevel got = clamp_simd(static_cast<int>(SimdLevel::kAmx));
    if (got != SimdLevel::kAmx)  // said once, on stderr: a run asked for AMX and does not get it
      std::fprintf(stderr, "dsengine: DSE_SIMD=amx: AMX unavailable (%s); using %s\n",
                   cpu_simd() == SimdLevel::kAvx512Dot ? amx_status() : "needs the AVX-512 dot products",
                   simd_name(got));
    return static_cast<int>(got);
  }
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

int valid_streams(int s, int fallback) { return s == 1 || s == 2 || s == 4 ? s : fallback; }

std::atomic<int>& streams_flag() {
  static std::atomic<int> flag{[] {
    const char* env = std::getenv("DSE_DECODE_STREAMS");
    return valid_streams(env ? std::atoi(env) : 4, 4);
  }()};
  return flag;
}

// One panel at a time: with each panel one sequential stream (scales inline), that is one stream per
// thread, the probe's own pattern. Under load (5-13) it read 83-94% of the in-window probe where four
// panels read 70-89% and the old kernel 73-86%; on a quiet machine all three read alike (85-93% in the
// middle state). Not yet compared in the fast state (docs/performance.md, #21, tenth session).
constexpr int kDefaultPanels = 1;
std::atomic<int>& panels_flag() {
  static std::atomic<int> flag{[] {
    const char* env = std::getenv("DSE_DECODE_PANELS");
    return valid_streams(env ? std::atoi(env) : kDefaultPanels, kDefaultPanels);
  }()};
  return flag;
}

// Two lanes: in the lead's quiet A/B runs they took 0.987x and 0.894x the step time of one lane, four 0.954x
// (docs/performance.md, #21, fourteenth session).
constexpr int kDefaultLanes = 2;
std::atomic<int>& lanes_flag() {
  static std::atomic<int> flag{[] {
    const char* env = std::getenv("DSE_DECODE_LANES");
    return valid_streams(env ? std::atoi(env) : kDefaultLanes, kDefaultLanes);
  }()};
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

// Decode rows handed out in pieces of at most `cap` rows (the fixed tiles this replaced), shrinking
// near the end to a share of what is left, down to `grain` rows. The threads then finish within a
// small piece of each other (~50 KB, microseconds), and the one that waits at the end of the op is
// still spinning when the other is done, instead of asleep: with fixed 256-row tiles the gap was up
// to one tile (768 KB, ~40 us), longer than the pool's spin, and each late finisher paid a futex
// wake-up (tens of microseconds on a VM) on ~200 ops per token.
class RowQueue {
 public:
  RowQueue(int64_t begin, int64_t rows, int64_t grain, int64_t cap, int threads)
      : next_(begin), rows_(rows), grain_(grain), cap_(cap), div_(2 * threads) {}
  // Claims rows [r0, r1); false when none are left. Pieces are multiples of the grain, so whole
  // panels (int8) and whole four-row groups (bf16) until the last.
  bool claim(int64_t& r0, int64_t& r1) {
    int64_t at = next_.load(std::memory_order_relaxed);
    for (;;) {
      if (at >= rows_) return false;
      const int64_t n = std::clamp((rows_ - at) / div_ / grain_ * grain_, grain_, cap_);
      const int64_t end = std::min(rows_, at + n);
      if (next_.compare_exchange_weak(at, end, std::memory_order_relaxed)) {
        r0 = at;
        r1 = end;
        return true;
      }
    }
  }

 private:
  std::atomic<int64_t> next_;
  const int64_t rows_, grain_, cap_, div_;
};

// Runs rows(r0, r1) over [0, n_rows) on the pool in RowQueue pieces (decode), or inline.
template <typename Rows>
void decode_rows(int64_t n_rows, int64_t grain, int64_t cap, int64_t ahead, ThreadPool* pool, const Rows& rows) {
  if (!pool || n_rows <= grain) return rows(0, n_rows);
  const int threads = pool->size();
  const int64_t first = first_piece(n_rows, grain, cap, ahead, threads);
  RowQueue queue(first * threads, n_rows, grain, cap, threads);
  pool->parallel_for(threads, [&](int64_t c, int64_t) {
    if (first > 0) rows(c * first, (c + 1) * first);
    for (int64_t r0, r1; queue.claim(r0, r1);) rows(r0, r1);
  });
}

// A row range of a decode pass (decode_lanes_rows).
struct RowRange {
  int64_t r0, r1;
};
constexpr int kMaxLanes = 4;

// decode_rows with the rows in `lanes` spans of whole grains (decode_lanes()): the queue and the first
// pieces run over one span, and each piece [r0, r1) it hands out is run in every span at once,
// ranges(r, n) with r[k] = [r0, r1) + k x span (clipped to n_rows; the last span may be shorter). One
// lane, a pool-less call or too few rows for two: decode_rows.
template <typename Ranges>
void decode_lanes_rows(int64_t n_rows, int64_t grain, int64_t cap, int64_t ahead, int lanes, ThreadPool* pool,
                       const Ranges& ranges) {
  const int64_t span = ((n_rows + lanes - 1) / std::max(1, lanes) + grain - 1) / grain * grain;
  auto one = [&](int64_t r0, int64_t r1) {
    const RowRange r{r0, r1};
    ranges(&r, 1);
  };
  if (lanes <= 1 || !pool || span >= n_rows || n_rows <= grain) return decode_rows(n_rows, grain, cap, ahead, pool, one);
  decode_rows(span, grain, cap, ahead, pool, [&](int64_t r0, int64_t r1) {
    RowRange r[kMaxLanes];
    int n = 0;
    for (int k = 0; k < lanes && r0 + k * span < n_rows; ++k) r[n++] = {r0 + k * span, std::min(n_rows, r1 + k * span)};
    ranges(r, n);
  });
}

// One matmul call's kernel: the activations prepared once for w's format and SIMD level (on the
// calling thread, before the pool starts: vdpbf16ps multiplies bf16 by bf16, the VNNI kernel reads
// codes quantized per block), then output rows [r0, r1) for all T tokens, bias included.
// int8 weights in the panel layout go to the VNNI kernel over whole panels (all tokens in one call,
// which picks its own register tiles), or, where another level was chosen after load, to that
// level's row kernel on rows unpacked a row tile at a time (y offset by the tile's first row, so the
// row kernel indexes the buffer from 0).
class RowKernel {
 public:
  // `same_input`: a kernel of the same group (same x, T and cols) whose prepared activations this one
  // reuses when it needs the same preparation: a q/k/v group quantizes its input once, not three times.
  RowKernel(const Weight& w, const float* x, int64_t T, float* y, const float* bias, SimdLevel simd,
            const RowKernel* same_input = nullptr)
      : w_(&w), x_(x), T_(T), y_(y), bias_(bias), simd_(simd),
        // the level can outlive the model standing in for the tiles (tests): no tiles without AMX
        amx_(simd == SimdLevel::kAmx && T >= amx_min_tokens() && (amx_emulation() || amx_available())),
        amx_model_(amx_ && amx_emulation()) {
    if (same_input && same_input->x_ == x && same_input->T_ == T && same_input->w_->cols == w.cols &&
        same_input->simd_ == simd && prepares_q8(*same_input->w_) == prepares_q8(w) &&
        prepares_bf16(*same_input->w_) == prepares_bf16(w)) {
      xb_ = same_input->xb_, xq_ = same_input->xq_, xs_ = same_input->xs_, xsum_ = same_input->xsum_;
      return;
    }
    // thread_locals, not captured: the pool's threads get pointers (same x and cols within a group,
    // so a second kernel's preparation writes the same values in place)
    thread_local std::vector<uint16_t> xb_buf;
    thread_local std::vector<int8_t> xq_buf;
    thread_local std::vector<float> xs_buf;
    thread_local std::vector<int32_t> xsum_buf;
    const int64_t nb = q8_blocks(w.cols);
    if (prepares_q8(w)) {
      xq_buf.resize(static_cast<size_t>(T * q8_padded_cols(w.cols)));
      xs_buf.resize(static_cast<size_t>(T * nb));
      xsum_buf.resize(static_cast<size_t>(T * nb));
      detail::quantize_q8_panels_x(x, T, w.cols, xq_buf.data(), xs_buf.data(), xsum_buf.data());
      xq_ = xq_buf.data(), xs_ = xs_buf.data(), xsum_ = xsum_buf.data();
    } else if (prepares_bf16(w)) {
      xb_buf.resize(static_cast<size_t>(T * w.cols));
      detail::round_bf16_dot(x, T * w.cols, xb_buf.data());
      xb_ = xb_buf.data();
    }
  }

  // Whether rows can go to matmul_q8_streams (decode lanes): the VNNI kernel over panels. Kernels of one
  // group share the activations' buffers (the thread_locals above), so any member's q8_run serves the group.
  bool q8_streams() const { return xq_ != nullptr; }
  detail::Q8Stream q8_stream(int64_t r0, int64_t r1) const { return {w_->i8.data(), y_, r0, r1}; }
  void add_bias_rows(int64_t r0, int64_t r1) const {
    if (bias_) add_bias(bias_, T_, w_->rows, r0, r1, y_);
  }
  void q8_run(const detail::Q8Stream* s, int n) const { detail::matmul_q8_streams(s, n, xq_, xs_, xsum_, w_->cols); }

  void operator()(int64_t r0, int64_t r1) const {
    const Weight& w = *w_;
    if (w.format == WFormat::kI8 && w.panels) {
      panels(r0, r1);
    } else if (xb_ && amx_) {  // prefill on tiles: all the tokens against each packed 16-row panel
      (amx_model_ ? detail::matmul_bf16_amx_model : detail::matmul_bf16_amx)(w.bf16.data(), xb_, w.rows, w.cols, r0,
                                                                            r1, 0, T_, y_);
    } else {
      const void* wdata = w.format == WFormat::kF32    ? static_cast<const void*>(w.f32.data())
                          : w.format == WFormat::kBF16 ? static_cast<const void*>(w.bf16.data())
                                                       : static_cast<const void*>(w.i8.data());
      for (int64_t t0 = 0; t0 < T_; t0 += kTokenTile) {
        const int64_t t1 = std::min(T_, t0 + kTokenTile);
        if (xb_)
          detail::matmul_tile_bf16dot(w.bf16.data(), xb_, w.rows, w.cols, r0, r1, t0, t1, y_, streams_);
        else if (simd_ >= SimdLevel::kAvx512)
          detail::matmul_tile_avx512(w.format, wdata, w.scale.data(), w.rows, w.cols, x_, r0, r1, t0, t1, y_);
        else if (simd_ == SimdLevel::kAvx2)
          detail::matmul_tile_avx2(w.format, wdata, w.scale.data(), w.rows, w.cols, x_, r0, r1, t0, t1, y_);
        else
          detail::matmul_tile_portable(w, x_, r0, r1, t0, t1, y_);
      }
    }
    if (bias_) add_bias(bias_, T_, w.rows, r0, r1, y_);
  }

 private:
  // kAmx prepares as kAvx512Dot does: its tile kernels read the same activations.
  bool prepares_q8(const Weight& w) const {
    return w.format == WFormat::kI8 && w.panels && simd_ >= SimdLevel::kAvx512Dot;
  }
  bool prepares_bf16(const Weight& w) const { return w.format == WFormat::kBF16 && simd_ >= SimdLevel::kAvx512Dot; }

  void panels(int64_t r0, int64_t r1) const {
    const Weight& w = *w_;
    if (xq_ && amx_) {
      (amx_model_ ? detail::matmul_q8_amx_model : detail::matmul_q8_amx)(w.i8.data(), xq_, xs_, xsum_, w.rows, w.cols,
                                                                        r0, r1, 0, T_, y_);
      return;
    }
    if (xq_) {
      detail::matmul_q8_panels(w.i8.data(), xq_, xs_, xsum_, w.rows, w.cols, r0, r1, 0, T_, y_, panels_);
      return;
    }
    thread_local std::vector<int8_t> q;
    thread_local std::vector<float> s;
    const int64_t cols = w.cols, nb = q8_blocks(cols);
    for (int64_t a = r0; a < r1; a += kRowTile) {
      const int64_t b = std::min(r1, a + kRowTile), n = b - a;
      q.resize(static_cast<size_t>(n * cols));
      s.resize(static_cast<size_t>(n * nb));
      unpack_q8_rows(w, a, b, q.data(), s.data());
      const int8_t* qd = q.data();
      const float* sd = s.data();
      for (int64_t t0 = 0; t0 < T_; t0 += kTokenTile) {
        const int64_t t1 = std::min(T_, t0 + kTokenTile);
        if (simd_ >= SimdLevel::kAvx512)
          detail::matmul_tile_avx512(WFormat::kI8, qd, sd, w.rows, cols, x_, 0, n, t0, t1, y_ + a);
        else if (simd_ == SimdLevel::kAvx2)
          detail::matmul_tile_avx2(WFormat::kI8, qd, sd, w.rows, cols, x_, 0, n, t0, t1, y_ + a);
        else
          tile_generic([qd, sd, cols, nb](int64_t o, int64_t i) { return qd[o * cols + i] * sd[o * nb + i / kQ8Block]; },
                       cols, x_, 0, n, t0, t1, w.rows, y_ + a);
      }
    }
  }

  const Weight* w_;
  const float* x_;
  int64_t T_;
  float* y_;
  const float* bias_;
  SimdLevel simd_;
  bool amx_;        // prefill on AMX tiles (kAmx and at least amx_min_tokens() tokens)
  bool amx_model_;  // ... on the instruction model (set_amx_emulation, tests)
  int streams_ = decode_streams();
  int panels_ = decode_panels();
  const uint16_t* xb_ = nullptr;
  const int8_t* xq_ = nullptr;
  const float* xs_ = nullptr;
  const int32_t* xsum_ = nullptr;
};

int64_t ahead_rows(const Weight& w) { return ahead_rows(w, decode_prefetch_bytes()); }

}  // namespace

void use_kernel_layout(Weight& w) {
  if (w.format == WFormat::kI8 && simd_level() >= SimdLevel::kAvx512Dot) pack_q8_panels(w);
}

SimdLevel simd_available() { return best_simd(); }
void set_simd_level(SimdLevel level) { simd_flag().store(static_cast<int>(clamp_simd(static_cast<int>(level)))); }
SimdLevel simd_level() { return static_cast<SimdLevel>(simd_flag().load()); }
int decode_streams() { return streams_flag().load(std::memory_order_relaxed); }
void set_decode_streams(int streams) { streams_flag().store(valid_streams(streams, 4)); }
int decode_panels() { return panels_flag().load(std::memory_order_relaxed); }
int decode_lanes() { return lanes_flag().load(std::memory_order_relaxed); }
void set_decode_lanes(int lanes) { lanes_flag().store(valid_streams(lanes, kDefaultLanes)); }
void set_decode_panels(int panels) { panels_flag().store(valid_streams(panels, kDefaultPanels)); }
const char* simd_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::kAmx: return "AMX tiles for prefill (BF16 and INT8) and AVX-512 dot products for decode";
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
  const RowKernel kernel(w, x, T, y, bias, simd_level());
  if (T == 1 && kernel.q8_streams() && decode_lanes() > 1) {
    return decode_lanes_rows(w.rows, kDecodeGrain, decode_cap(w), ahead_rows(w), decode_lanes(), pool,
                             [&](const RowRange* r, int n) {
                               detail::Q8Stream s[kMaxLanes] = {};
                               for (int k = 0; k < n; ++k) s[k] = kernel.q8_stream(r[k].r0, r[k].r1);
                               kernel.q8_run(s, n);
                               for (int k = 0; k < n; ++k) kernel.add_bias_rows(r[k].r0, r[k].r1);
                             });
  }
  if (T == 1) return decode_rows(w.rows, kDecodeGrain, decode_cap(w), ahead_rows(w), pool, kernel);
  // Prefill: whole row tiles, each reused across the tokens, taken by whichever thread asks next
  // rather than in fixed halves: a thread the OS deschedules for a while (a busy machine) or that
  // streams slower no longer leaves the other idle at the end.
  const int64_t n_tiles = (w.rows + kRowTile - 1) / kRowTile;
  auto tile = [&](int64_t t) { kernel(t * kRowTile, std::min(w.rows, (t + 1) * kRowTile)); };
  if (!pool || n_tiles == 1) {
    for (int64_t t = 0; t < n_tiles; ++t) tile(t);
    return;
  }
  std::atomic<int64_t> next{0};
  pool->parallel_for(pool->size(), [&](int64_t, int64_t) {
    for (int64_t t; (t = next.fetch_add(1, std::memory_order_relaxed)) < n_tiles;) tile(t);
  });
}

void matmul_group(const MatmulJob* jobs, int n, const float* x, int64_t T, ThreadPool* pool) {
  bool fused = T == 1 && pool && n > 1;
  for (int j = 1; j < n; ++j) fused = fused && jobs[j].w->cols == jobs[0].w->cols;
  if (!fused) {
    for (int j = 0; j < n; ++j) matmul(*jobs[j].w, x, T, jobs[j].y, jobs[j].bias, pool);
    return;
  }
  // The matrices' rows end to end, each starting on a multiple of the grain (so a piece starts on a
  // panel boundary in every matrix), handed out as one RowQueue: one barrier for the group.
  const SimdLevel simd = simd_level();
  std::vector<RowKernel> kernels;
  kernels.reserve(static_cast<size_t>(n));  // the later kernels point at the first
  std::vector<int64_t> start;
  int64_t total = 0;
  for (int j = 0; j < n; ++j) {
    kernels.emplace_back(*jobs[j].w, x, T, jobs[j].y, jobs[j].bias, simd, j > 0 ? &kernels[0] : nullptr);
    start.push_back(total);
    total += (jobs[j].w->rows + kDecodeGrain - 1) / kDecodeGrain * kDecodeGrain;
  }
  bool lanes = decode_lanes() > 1;
  for (const RowKernel& k : kernels) lanes = lanes && k.q8_streams();
  if (!lanes) {
    decode_rows(total, kDecodeGrain, decode_cap(*jobs[0].w), ahead_rows(*jobs[0].w), pool, [&](int64_t r0, int64_t r1) {
      for (int j = 0; j < n; ++j) {
        const int64_t a = std::max(r0, start[j]) - start[j], b = std::min(r1, start[j] + jobs[j].w->rows) - start[j];
        if (a < b) kernels[j](a, b);
      }
    });
    return;
  }
  // Lanes: each lane's range cut at the matrices' boundaries, all the pieces read side by side.
  decode_lanes_rows(total, kDecodeGrain, decode_cap(*jobs[0].w), ahead_rows(*jobs[0].w), decode_lanes(), pool,
                    [&](const RowRange* r, int nr) {
                      constexpr int kMaxPieces = 16;
                      detail::Q8Stream s[kMaxPieces] = {};
                      int job[kMaxPieces], ns = 0;
                      auto flush = [&] {  // the kernel stores its sums, so the bias goes on after it
                        kernels[0].q8_run(s, ns);
                        for (int i = 0; i < ns; ++i) kernels[job[i]].add_bias_rows(s[i].r0, s[i].r1);
                        ns = 0;
                      };
                      for (int k = 0; k < nr; ++k)
                        for (int j = 0; j < n; ++j) {
                          const int64_t a = std::max(r[k].r0, start[j]) - start[j];
                          const int64_t b = std::min(r[k].r1, start[j] + jobs[j].w->rows) - start[j];
                          if (a >= b) continue;
                          if (ns == kMaxPieces) flush();
                          job[ns] = j, s[ns++] = kernels[j].q8_stream(a, b);
                        }
                      flush();
                    });
}

static std::atomic<int>& first_share_flag() {
  static std::atomic<int> flag{[] {
    const char* env = std::getenv("DSE_DECODE_FIRST_SHARE");
    return env ? std::clamp(std::atoi(env), 0, 90) : 0;
  }()};
  return flag;
}
int decode_first_share() { return first_share_flag().load(std::memory_order_relaxed); }
void set_decode_first_share(int percent) { first_share_flag().store(std::clamp(percent, 0, 90)); }

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

namespace detail {

// Each chunk of a decode pass first runs a piece of its own, [c * n, (c + 1) * n) with n this many rows
// (0 when the rows are too few), then claims from the queue: so which rows a thread reads first is
// known before the pass, and the pool's read-ahead hint (prefetch_decode) can have them read during the
// serial work before it. n is the queue's first piece, or more where the read-ahead (`ahead` rows) is
// longer, up to a quarter of the rows per thread pair (the queue still balances the rest); or, with
// decode_first_share() > 0, that share of the rows (one long contiguous stream per thread, as the probe
// reads; the queue's 64-row int8 pieces interleave the threads every 110 KB).
int64_t first_piece(int64_t n_rows, int64_t grain, int64_t cap, int64_t ahead, int threads) {
  const int64_t shared = n_rows * decode_first_share() / 100 / threads / grain * grain;
  const int64_t most = std::max({grain, n_rows / (2 * threads) / grain * grain, shared});
  const int64_t n = std::clamp(std::max({cap, (ahead + grain - 1) / grain * grain, shared}), grain, most);
  return n * threads <= n_rows ? n : 0;
}

// At most the decode tiles of before: 256 rows (768 KB of a 1536-wide bf16 matrix), 64 for int8.
int64_t decode_cap(const Weight& w) { return w.format == WFormat::kI8 && w.panels ? kRowTile : 4 * kRowTile; }

// Rows of w that hold the read-ahead's bytes (0 where the hint does not cover w's layout).
int64_t ahead_rows(const Weight& w, int64_t bytes) {
  const bool panels = w.format == WFormat::kI8 && w.panels;
  if (!(panels || w.format == WFormat::kBF16) || w.cols <= 0) return 0;
  const int64_t row_bytes = panels ? q8_blocks(w.cols) * kQ8PanelBlockBytes / kQ8PanelRows : w.cols * 2;
  return (bytes + row_bytes - 1) / row_bytes;
}
}  // namespace detail

}  // namespace dse
