// y[t, o] = sum_i x[t, i] * W[o, i] (+ bias[o]): the one GEMM/GEMV entry point of the CPU backend.
// One call serves decode (T = 1, memory bound, split over output rows) and prefill (T > 1, tiled
// so a weight tile is reused across many tokens).
#pragma once
#include <cstdint>
#include <vector>

#include "common/thread_pool.h"
#include "memory/weight.h"

namespace dse {

// x: [T, w.cols] row-major, y: [T, w.rows] row-major, bias: [w.rows] or null.
void matmul(const Weight& w, const float* x, int64_t T, float* y, const float* bias, ThreadPool* pool);

// Several matmuls of the same input x (q/k/v, gate/up; equal cols): for decode (T = 1) one pass of
// the pool over all their rows, one barrier instead of one per matrix; otherwise one matmul each.
struct MatmulJob {
  const Weight* w;
  float* y;            // [T, w->rows]
  const float* bias;   // [w->rows] or null
};
void matmul_group(const MatmulJob* jobs, int n, const float* x, int64_t T, ThreadPool* pool);

// Decode (one token) only: has the pool's idle workers read ahead the rows each thread takes first in
// the next pass over w (or over a group's matrices, w = jobs[0]): each chunk's own first piece (see
// matmul.cpp, first_piece), up to decode_prefetch_bytes() of it, while the caller does the serial work
// before that pass (norms, rope, attention, residuals, the activations' preparation). A hint: the results
// never depend on it, and a pass without one reads the same rows.
void prefetch_decode(const Weight& w, ThreadPool* pool);
void prefetch_decode(const MatmulJob* jobs, int n, ThreadPool* pool);
// Bytes read ahead per thread (default 0: off; DSE_DECODE_PREFETCH=KiB turns it on, e.g. 64). Each
// chunk's first piece is at least that long (up to a quarter of the rows per two threads).
int64_t decode_prefetch_bytes();
void set_decode_prefetch_bytes(int64_t bytes);
// Percent of a decode pass's rows run as the chunks' own first pieces, all threads together (default 0:
// the queue's first pieces; DSE_DECODE_FIRST_SHARE=0..90 overrides): e.g. 75 gives each of 2 threads a
// contiguous 37.5% first, then the queue balances the rest. Same results either way; for comparing the
// stream pattern in the fast bandwidth state (docs/performance.md, #21, eleventh session).
int decode_first_share();
void set_decode_first_share(int percent);
// The ranges prefetch_decode hints for a pass of `threads` chunks over `group_rows` rows (w.rows alone, or
// a group's rows end to end) whose first matrix is w: one per chunk, clipped to w and to `bytes`.
std::vector<ThreadPool::Range> decode_prefetch_ranges(const Weight& w, int64_t group_rows, int threads, int64_t bytes);
// The same for the pass prefetch_decode(jobs, n) hints, with `lanes` decode lanes: where the pass runs
// lanes (int8 panels on the VNNI kernel), each chunk's first piece in every lane, bytes / lanes each, in
// the matrix of the group that holds it (at most ThreadPool::kMaxPrefetchRanges, lane 0's first).
std::vector<ThreadPool::Range> decode_prefetch_ranges(const MatmulJob* jobs, int n, int threads, int64_t bytes,
                                                     int lanes);

// Plain triple loop in double precision: the reference every path is tested against.
void matmul_reference(const Weight& w, const float* x, int64_t T, float* y, const float* bias);

// The kernel is chosen at run time from what the CPU and the OS support (cpuid + xgetbv, once; the
// library is built without -march=native so a packaged jar runs on any x86-64): the AVX-512 dot
// products (AVX512_BF16 `vdpbf16ps` for bf16 weights) where present, else AVX2+FMA, else portable
// code. AVX-512F without the dot products stays opt-in (DSE_SIMD=avx512). The env var
// DSE_SIMD=amx|avx512dot|avx512|avx2|none overrides (clamped to the CPU). Tests set each level.
// kAvx512Dot rounds the activations of a bf16 matmul to bf16 (as llama.cpp does; products and sums
// stay f32) and quantizes those of an int8 matmul per block of 32 like the weights (as Q8_0 does);
// its int8 kernel reads the panel layout (use_kernel_layout); int8 weights left by row use AVX-512F.
// kAmx is kAvx512Dot with prefill (at least amx_min_tokens() tokens) on AMX tiles (kernels/amx: the
// same activations, tdpbf16ps / tdpbsud); it needs AMX-TILE/BF16/INT8, the OS's tile state and the
// Linux permission (amx_status() says which is missing); opt-in for now (DSE_SIMD=amx).
enum class SimdLevel : int { kNone = 0, kAvx2 = 1, kAvx512 = 2, kAvx512Dot = 3, kAmx = 4 };
// Best level this CPU and build support (kAmx included: asks Linux for the tile permission, once).
SimdLevel simd_available();
// Clamped to what the CPU (and the build) supports.
void set_simd_level(SimdLevel level);
SimdLevel simd_level();
const char* simd_name(SimdLevel level);

// Rows the bf16 dot-product decode GEMV reads at once per thread, each a sequential stream: 1, 2 or 4
// (default 4; DSE_DECODE_STREAMS overrides, for comparing them on a machine). Same results either way.
int decode_streams();
void set_decode_streams(int streams);
// The same for the int8 VNNI decode GEMV, in 16-row panels (each one sequential stream, codes and
// scales): 1, 2 or 4 (default 1; DSE_DECODE_PANELS overrides). Same results either way.
int decode_panels();
void set_decode_panels(int panels);

// The int8 VNNI decode GEMV's distant streams: 1, 2 or 4 (default 2; DSE_DECODE_LANES overrides). With
// L > 1 a decode pass's rows (a group's end to end) are cut into L equal spans (lanes) and each piece a
// thread claims is run at the same offset in every lane, the lanes' panels read side by side: L sequential
// streams per thread, a pass's length / L apart, as the bandwidth probe's streams are (its best is often
// 2-8 per thread; docs/performance.md, #21, fourteenth session). Same results either way.
int decode_lanes();
void set_decode_lanes(int lanes);

namespace detail {
// One stream of matmul_q8_streams: rows [r0, r1) of a panel-layout weight (w: its Weight::i8, r0 a
// multiple of kQ8PanelRows, r1 <= its rows) into y (its output, indexed from row 0).
struct Q8Stream {
  const int8_t* w;
  float* y;
  int64_t r0, r1;
};
// Decode (one token, activations as for matmul_q8_panels, all streams `cols` wide): the streams' panels
// read side by side, up to 4 streams at once (more are taken 4 at a time), each panel's result as
// matmul_q8_panels gives it.
void matmul_q8_streams(const Q8Stream* s, int n, const int8_t* xq, const float* xs, const int32_t* xsum, int64_t cols);
// Row tile [row_begin, row_end) x token tile [t_begin, t_end); implemented per instruction set.
void matmul_tile_portable(const Weight& w, const float* x, int64_t row_begin, int64_t row_end, int64_t t_begin,
                          int64_t t_end, float* y);
void matmul_tile_avx2(WFormat fmt, const void* wdata, const float* scale, int64_t rows, int64_t cols,
                      const float* x, int64_t row_begin, int64_t row_end, int64_t t_begin, int64_t t_end, float* y);
void matmul_tile_avx512(WFormat fmt, const void* wdata, const float* scale, int64_t rows, int64_t cols,
                        const float* x, int64_t row_begin, int64_t row_end, int64_t t_begin, int64_t t_end, float* y);
// bf16 weights x activations already rounded to bf16 (xb: [T, cols]), `vdpbf16ps`; one token reads
// `streams` (1, 2 or 4) rows at once (decode_streams()).
void matmul_tile_bf16dot(const uint16_t* w, const uint16_t* xb, int64_t rows, int64_t cols, int64_t row_begin,
                         int64_t row_end, int64_t t_begin, int64_t t_end, float* y, int streams);
// out[i] = silu(g[i]) * u[i] over n values (out may alias g), a vectorized exp (silu_mul.h dispatches).
void silu_mul_avx512(const float* g, const float* u, int64_t n, float* out);
// The activations of a bf16 dot-product matmul, rounded to bf16 once per call (n values).
void round_bf16_dot(const float* x, int64_t n, uint16_t* xb);
// int8 weights in the panel layout (memory/q8_panels.h: codes and scales in w) x activations quantized
// per block by quantize_q8_panels_x (xq: [T, q8_padded_cols(cols)] codes, xs: scales, xsum: -128 x each
// block's sum of codes, [T * q8_blocks(cols)]), `vpdpbusd`; rows [r0, r1), r0 a multiple of
// kQ8PanelRows; one token reads `streams` (1, 2 or 4) panels at once (decode_panels()).
void matmul_q8_panels(const int8_t* w, const int8_t* xq, const float* xs, const int32_t* xsum, int64_t rows,
                      int64_t cols, int64_t r0, int64_t r1, int64_t t0, int64_t t1, float* y, int streams);
void quantize_q8_panels_x(const float* x, int64_t T, int64_t cols, int8_t* xq, float* xs, int32_t* xsum);
}  // namespace detail

// Puts a weight into the layout the selected kernels read best, once, at load: int8 weights go to the
// VNNI panel layout (memory/q8_panels.h) when simd_level() is kAvx512Dot or kAmx. Other levels read panel
// weights too (rows unpacked per tile: correct, slower), so a later set_simd_level stays safe.
void use_kernel_layout(Weight& w);

}  // namespace dse
