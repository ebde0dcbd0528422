// Every kernel against a plain reference, over odd shapes; matmul over each weight format and
// both the AVX2 and the portable path.
#include <algorithm>
#include <chrono>
#include <thread>
#include <cmath>
#include <cstring>
#include <limits>

#include "check.h"
#include "common/dtype.h"
#include "common/thread_pool.h"
#include "kernels/amx/amx_matmul.h"
#include "kernels/attention.h"
#include "kernels/matmul.h"
#include "kernels/moe_route.h"
#include "kernels/rmsnorm.h"
#include "kernels/rope.h"
#include "kernels/silu_mul.h"
#include "kernels/softmax.h"
#include "loader/weight_loader.h"
#include "memory/q8_panels.h"
#include "test_util.h"

using namespace dse;

namespace {

Weight make_weight(WFormat fmt, int64_t rows, int64_t cols, uint32_t seed, bool panels = false) {
  auto v = testutil::random_vec(static_cast<size_t>(rows * cols), seed);
  Weight w;
  w.format = fmt;
  w.rows = rows;
  w.cols = cols;
  if (fmt == WFormat::kF32) {
    w.f32.assign(v.begin(), v.end());
  } else if (fmt == WFormat::kBF16) {
    for (float f : v) w.bf16.push_back(f32_to_bf16(f));
  } else {
    w.i8.resize(v.size());
    w.scale.resize(static_cast<size_t>(rows * q8_blocks(cols)));
    quantize_rows_i8(v.data(), rows, cols, w.i8.data(), w.scale.data());
    if (panels) pack_q8_panels(w);
  }
  return w;
}

void check_matmul(SimdLevel level) {
  set_simd_level(level);
  CHECK(simd_level() == level);
  ThreadPool pool(3);
  // {T, cols, rows}: tails of every vector width (8, 16, 32 values) in cols, of the 4x4 register
  // blocks in rows and tokens, and of the row/token tiles; {1, 333, 37}: the int8 GEMV's groups of
  // four 64-byte chunks, a lone whole chunk after them and a 13-value tail. For int8 panels (16 rows,
  // blocks of 32 columns, register tiles of 2-4 panels x 1-6 tokens): partial panels (129, 131, 37),
  // fewer rows than a panel, cols short of a block, and token counts leaving every tail of 6.
  // {1, 40, 1001} and {1, 33, 4099}: decode rows in shrinking pieces over many claims, the last piece
  // partial (a partial panel for int8). {1, 97, 23}: for the bf16 decode GEMV's 1/2/4 streams with
  // 2/2/1 accumulators per row, whole 64-byte chunks left over after the unrolled ones, then a tail.
  const int64_t shapes[][3] = {{1, 1, 1},      {1, 7, 5},      {3, 33, 17},   {5, 100, 65},  {37, 130, 129},
                               {4, 8, 64},     {64, 96, 300},  {1, 31, 3},    {2, 63, 6},    {7, 65, 67},
                               {1, 1536, 259}, {33, 257, 131}, {6, 2048, 18}, {1, 333, 37},  {11, 200, 80},
                               {1, 64, 96},    {1, 96, 48},    {1, 40, 1001}, {1, 33, 4099}, {1, 97, 23}};
  for (int f = 0; f < 4; ++f) {
    // The fourth: int8 in the VNNI panel layout, at every level (the VNNI kernel at kAvx512Dot, the
    // level's row kernel over unpacked rows below it).
    const WFormat fmt = f == 0 ? WFormat::kF32 : f == 1 ? WFormat::kBF16 : WFormat::kI8;
    for (const auto& s : shapes) {
      const int64_t T = s[0], cols = s[1], rows = s[2];
      Weight w = make_weight(fmt, rows, cols, static_cast<uint32_t>(T * 1000 + cols), f == 3);
      auto x = testutil::random_vec(static_cast<size_t>(T * cols), 7);
      auto bias = testutil::random_vec(static_cast<size_t>(rows), 8);
      std::vector<float> y(static_cast<size_t>(T * rows)), ref(y.size());
      matmul(w, x.data(), T, y.data(), bias.data(), &pool);
      // The bf16 dot-product kernel multiplies bf16 by bf16: its reference rounds x the same way, so
      // the check below stays as tight as for the other paths (f32 products and sums).
      // Likewise the int8 dot-product kernel quantizes x per block of 32.
      const bool rounds_x = level >= SimdLevel::kAvx512Dot && (fmt == WFormat::kBF16 || w.panels);
      std::vector<float> xr = x;
      if (rounds_x && fmt == WFormat::kBF16)
        for (float& v : xr) v = bf16_to_f32(f32_to_bf16(v));
      if (rounds_x && fmt == WFormat::kI8) {
        std::vector<int8_t> q(static_cast<size_t>(cols));
        std::vector<float> sc(static_cast<size_t>(q8_blocks(cols)));
        for (int64_t t = 0; t < T; ++t) {
          quantize_q8_row(x.data() + t * cols, cols, q.data(), sc.data());
          for (int64_t i = 0; i < cols; ++i) xr[t * cols + i] = q[i] * sc[i / kQ8Block];
        }
      }
      matmul_reference(w, xr.data(), T, ref.data(), bias.data());
      // f32 accumulation over `cols` terms of magnitude <= 1: error grows like sqrt(cols) * eps.
      const double tol = 1e-5 * std::sqrt(static_cast<double>(cols)) * 4;
      for (size_t i = 0; i < y.size(); ++i) CHECK_NEAR(y[i], ref[i], tol);
      if (rounds_x) {  // and against the exact x: each x is off by at most 2^-9 (bf16) or 1/254 (int8) of its block max
        std::vector<float> exact(y.size());
        matmul_reference(w, x.data(), T, exact.data(), bias.data());
        for (size_t i = 0; i < y.size(); ++i) CHECK_NEAR(y[i], exact[i], tol + cols / 200.0);
      }
      std::vector<float> y1(y.size());
      matmul(w, x.data(), T, y1.data(), bias.data(), nullptr);  // no pool: same result
      for (size_t i = 0; i < y.size(); ++i) CHECK_NEAR(y1[i], y[i], tol);
    }
  }
  set_simd_level(simd_available());
}

}  // namespace

// matmul_group: decode rows of several matrices in one pass (pieces crossing from one matrix into the
// next, matrices whose rows are not a multiple of the 16-row grain, fewer rows than a piece), and the
// one-matmul-each fallback (T > 1, no pool), at every level and format, panels included.
void check_matmul_group() {
  ThreadPool pool(3);
  const int64_t cols = 65, shapes[] = {37, 5, 1001, 16};
  for (SimdLevel level : {SimdLevel::kNone, SimdLevel::kAvx2, SimdLevel::kAvx512, SimdLevel::kAvx512Dot}) {
    if (level > simd_available()) continue;
    set_simd_level(level);
    for (int f = 0; f < 4; ++f) {
      const WFormat fmt = f == 0 ? WFormat::kF32 : f == 1 ? WFormat::kBF16 : WFormat::kI8;
      std::vector<Weight> ws;
      std::vector<std::vector<float>> ys, biases;
      for (int64_t rows : shapes) {
        ws.push_back(make_weight(fmt, rows, cols, static_cast<uint32_t>(rows * 7 + f), f == 3));
        biases.push_back(testutil::random_vec(static_cast<size_t>(rows), static_cast<uint32_t>(rows)));
      }
      for (int64_t T : {1, 3})
        for (ThreadPool* p : {&pool, static_cast<ThreadPool*>(nullptr)}) {
          auto x = testutil::random_vec(static_cast<size_t>(T * cols), 11);
          std::vector<MatmulJob> jobs;
          ys.assign(ws.size(), {});
          for (size_t j = 0; j < ws.size(); ++j) {
            ys[j].assign(static_cast<size_t>(T * ws[j].rows), -1.f);
            jobs.push_back({&ws[j], ys[j].data(), j == 1 ? nullptr : biases[j].data()});
          }
          matmul_group(jobs.data(), static_cast<int>(jobs.size()), x.data(), T, p);
          for (size_t j = 0; j < ws.size(); ++j) {
            std::vector<float> want(ys[j].size());
            matmul(ws[j], x.data(), T, want.data(), jobs[j].bias, nullptr);
            for (size_t i = 0; i < want.size(); ++i) CHECK_NEAR(ys[j][i], want[i], 1e-4);
          }
        }
    }
  }
  set_simd_level(simd_available());
}

TEST(matmul_group_matches_reference) { check_matmul_group(); }

// The decode read-ahead hint covers the rows each chunk of the pass runs first (its own first piece):
// chunk c's range starts at row c * piece of the first matrix, in its layout (int8 panels, bf16 rows),
// at most `bytes` long and inside the matrix; none for a lone thread, a format the hint does not cover
// (f32) or fewer rows than a piece. (That a chunk runs those rows first is decode_rows' own code; the
// results of passes with 2 and 3 threads over many pieces are checked against the reference above.)
TEST(decode_prefetch_ranges_cover_each_chunks_first_piece) {
  const int share = decode_first_share();
  set_decode_first_share(0);  // the queue's first pieces (DSE_DECODE_FIRST_SHARE may be set)
  Weight wi = make_weight(WFormat::kI8, 1001, 1536, 5, true);
  Weight wb = make_weight(WFormat::kBF16, 1001, 1536, 6, false);
  Weight wf = make_weight(WFormat::kF32, 1001, 1536, 7, false);
  const int64_t panel = q8_blocks(1536) * kQ8PanelBlockBytes;  // 16 rows
  for (int threads : {2, 3}) {
    auto ri = decode_prefetch_ranges(wi, 1001, threads, 1 << 20);
    auto rb = decode_prefetch_ranges(wb, 1001, threads, 1 << 20);
    CHECK_EQ(static_cast<int>(ri.size()), threads);
    CHECK_EQ(static_cast<int>(rb.size()), threads);
    // 1 MiB ahead: first pieces grow to a quarter of the rows per two threads (240 or 160 rows here).
    const int64_t first = 1001 / (2 * threads) / 16 * 16;
    for (int c = 0; c < threads; ++c) {
      CHECK(static_cast<const char*>(ri[c].p) == reinterpret_cast<const char*>(wi.i8.data()) + c * first / 16 * panel);
      CHECK_EQ(static_cast<int64_t>(ri[c].bytes), first / 16 * panel);
      CHECK(static_cast<const char*>(rb[c].p) == reinterpret_cast<const char*>(wb.bf16.data()) + c * first * 1536 * 2);
      CHECK_EQ(static_cast<int64_t>(rb[c].bytes), first * 1536 * 2);
    }
    // 1000 bytes ahead: the queue's own first pieces (int8: 64 rows, 4 panels), read 1000 bytes into.
    auto r1000 = decode_prefetch_ranges(wi, 1001, threads, 1000);
    CHECK_EQ(static_cast<int>(r1000.size()), threads);
    for (int c = 0; c < threads; ++c) {
      CHECK(static_cast<const char*>(r1000[c].p) == reinterpret_cast<const char*>(wi.i8.data()) + c * 4 * panel);
      CHECK_EQ(static_cast<int64_t>(r1000[c].bytes), 1000);
    }
  }
  // A group whose first matrix has fewer rows than the pieces: clipped to it.
  Weight small = make_weight(WFormat::kI8, 40, 1536, 8, true);
  auto rs = decode_prefetch_ranges(small, 40 + 1008, 2, 1 << 20);
  CHECK_EQ(static_cast<int>(rs.size()), 1);
  CHECK_EQ(static_cast<int64_t>(rs[0].bytes), 3 * panel);
  CHECK(decode_prefetch_ranges(wi, 1001, 1, 1 << 20).empty());
  CHECK(decode_prefetch_ranges(wf, 1001, 2, 1 << 20).empty());
  CHECK(decode_prefetch_ranges(wi, 1001, 2, 0).empty());
  CHECK(decode_prefetch_ranges(wi, 16, 2, 1 << 20).empty());
  set_decode_first_share(share);
}

// With decode lanes (int8 panels on the VNNI kernel), a chunk's first piece is read in every lane at once
// (decode_lanes_rows): the hint covers each lane's piece, in the group's matrix that holds it, with the
// bytes shared between the lanes; lane 0's pieces first where the ranges would be more than the pool takes.
// (Before, the hint covered lane 0 alone, and its pieces were cut from the whole group's rows, not a lane's.)
TEST(decode_prefetch_ranges_cover_each_lanes_first_piece) {
  const int share = decode_first_share();
  set_decode_first_share(0);
  Weight a = make_weight(WFormat::kI8, 1001, 1536, 9, true), b = make_weight(WFormat::kI8, 1001, 1536, 10, true);
  const MatmulJob jobs[] = {{&a, nullptr, nullptr}, {&b, nullptr, nullptr}};  // rows 0-1007 and 1008-2015
  const int64_t panel = q8_blocks(1536) * kQ8PanelBlockBytes;
  auto at = [](const Weight& w, int64_t p) { return reinterpret_cast<const char*>(w.i8.data()) + p; };
  if (simd_level() >= SimdLevel::kAvx512Dot) {
    // Two lanes of 1008 rows: lane 1 is b. 1 MiB ahead: first pieces of a quarter of a lane's rows per two
    // threads (240 rows, 15 panels), 512 KiB of each read ahead (more than the piece: the whole piece).
    auto r = decode_prefetch_ranges(jobs, 2, 2, 1 << 20, 2);
    CHECK_EQ(static_cast<int>(r.size()), 4);
    const char* want[] = {at(a, 0), at(a, 15 * panel), at(b, 0), at(b, 15 * panel)};
    for (int i = 0; i < 4 && i < static_cast<int>(r.size()); ++i) {
      CHECK(static_cast<const char*>(r[i].p) == want[i]);
      CHECK_EQ(static_cast<int64_t>(r[i].bytes), 15 * panel);
    }
    // 1000 bytes ahead: the queue's 64-row pieces, 500 bytes of each.
    auto r1000 = decode_prefetch_ranges(jobs, 2, 2, 1000, 2);
    CHECK_EQ(static_cast<int>(r1000.size()), 4);
    const char* want1000[] = {at(a, 0), at(a, 4 * panel), at(b, 0), at(b, 4 * panel)};
    for (int i = 0; i < 4 && i < static_cast<int>(r1000.size()); ++i) {
      CHECK(static_cast<const char*>(r1000[i].p) == want1000[i]);
      CHECK_EQ(static_cast<int64_t>(r1000[i].bytes), 500);
    }
    // Four lanes of 512 rows over two threads: eight pieces, the pool's four: lanes 0 and 1, both in a.
    auto r4 = decode_prefetch_ranges(jobs, 2, 2, 1000, 4);
    CHECK_EQ(static_cast<int>(r4.size()), ThreadPool::kMaxPrefetchRanges);
    const char* want4[] = {at(a, 0), at(a, 4 * panel), at(a, 32 * panel), at(a, 36 * panel)};
    for (int i = 0; i < 4 && i < static_cast<int>(r4.size()); ++i) {
      CHECK(static_cast<const char*>(r4[i].p) == want4[i]);
      CHECK_EQ(static_cast<int64_t>(r4[i].bytes), 250);
    }
  }
  // One lane: the older form's ranges (lane 0 over the group's rows).
  auto r1 = decode_prefetch_ranges(jobs, 2, 2, 1000, 1);
  auto old = decode_prefetch_ranges(a, 2016, 2, 1000);
  CHECK_EQ(r1.size(), old.size());
  for (size_t i = 0; i < r1.size() && i < old.size(); ++i) {
    CHECK(r1[i].p == old[i].p);
    CHECK_EQ(r1[i].bytes, old[i].bytes);
  }
  set_decode_first_share(share);
}

// With a read-ahead, each decode chunk's first piece grows to cover it: the results stay the
// reference's on every shape and format (3 threads, pieces of every size; the hints themselves only
// prefetch).
TEST(decode_with_read_ahead_matches_reference) {
  const int64_t before = decode_prefetch_bytes();
  for (int64_t bytes : {int64_t{4096}, int64_t{1} << 20}) {
    set_decode_prefetch_bytes(bytes);
    CHECK_EQ(decode_prefetch_bytes(), bytes);
    check_matmul(simd_available());
  }
  set_decode_prefetch_bytes(before);
}

// Long first pieces (a share of the rows per thread, the rest from the queue): the same results on every
// shape and format (3 threads; matmul_group shares the code path); the share is clamped to 0..90.
TEST(decode_with_long_first_pieces_matches_reference) {
  const int before = decode_first_share();
  for (int share : {50, 90}) {
    set_decode_first_share(share);
    CHECK_EQ(decode_first_share(), share);
    check_matmul(simd_available());
  }
  set_decode_first_share(200);
  CHECK_EQ(decode_first_share(), 90);
  set_decode_first_share(before);
}

// The panel layout holds exactly the row layout's codes and scales (so int8 accuracy is unchanged),
// with padding rows and columns at code 0 and scale 0; each panel's block is its 512 code bytes and
// then its 16 scales, all in i8 (one stream per panel for decode), the scale array left empty.
TEST(q8_panels_round_trip) {
  const int64_t shapes[][2] = {{1, 1}, {17, 33}, {40, 100}, {16, 32}, {3, 64}};
  for (const auto& s : shapes) {
    const int64_t rows = s[0], cols = s[1], nb = q8_blocks(cols);
    const Weight w = make_weight(WFormat::kI8, rows, cols, static_cast<uint32_t>(rows + cols));
    Weight p = w;
    pack_q8_panels(p);
    CHECK(p.panels);
    CHECK_EQ(p.i8.size(), static_cast<size_t>(q8_panels(rows) * nb * (kQ8PanelRows * kQ8Block + kQ8PanelRows * 4)));
    CHECK(p.scale.empty());
    CHECK_EQ(p.bytes(), p.i8.size());
    std::vector<int8_t> q(static_cast<size_t>(rows * cols));
    std::vector<float> sc(static_cast<size_t>(rows * nb));
    unpack_q8_rows(p, 0, rows, q.data(), sc.data());
    CHECK(std::equal(q.begin(), q.end(), w.i8.begin(), w.i8.end()));
    CHECK(std::equal(sc.begin(), sc.end(), w.scale.begin(), w.scale.end()));
    std::vector<float> a(static_cast<size_t>(cols)), b(a.size());
    for (int64_t r = 0; r < rows; ++r) {
      w.row_f32(r, a.data());
      p.row_f32(r, b.data());
      CHECK(a == b);
    }
    // Where each value sits: row r's scale of block k right after the block's codes, its code of
    // column c in the block's (c % 32 / 4)-th 64-byte group. Padding: code byte 128 (0 + 128), scale 0.
    int64_t nonzero_codes = 0, nonzero_scales = 0;
    for (int64_t blk = 0; blk < q8_panels(rows) * nb; ++blk) {
      const int8_t* at = p.i8.data() + blk * (kQ8PanelRows * kQ8Block + kQ8PanelRows * 4);
      for (int64_t i = 0; i < kQ8PanelRows * kQ8Block; ++i) nonzero_codes += at[i] != -128;
      for (int64_t i = 0; i < kQ8PanelRows; ++i) {
        float v;
        std::memcpy(&v, at + kQ8PanelRows * kQ8Block + i * 4, 4);
        nonzero_scales += v != 0.f;
      }
    }
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = 0; k < nb; ++k) {
        const int8_t* blk = p.i8.data() + (r / 16 * nb + k) * 576;
        float v;
        std::memcpy(&v, blk + 512 + r % 16 * 4, 4);
        CHECK_EQ(v, w.scale[r * nb + k]);
        for (int64_t c = k * 32; c < std::min(cols, k * 32 + 32); ++c)
          CHECK_EQ(static_cast<int>(static_cast<uint8_t>(blk[c % 32 / 4 * 64 + r % 16 * 4 + c % 4])), w.i8[r * cols + c] + 128);
      }
    int64_t want_codes = 0;
    for (int8_t v : w.i8) want_codes += v != 0;
    CHECK_EQ(nonzero_codes, want_codes);
    CHECK_EQ(nonzero_scales, rows * nb);
  }
}

TEST(matmul_portable_matches_reference) { check_matmul(SimdLevel::kNone); }

TEST(matmul_avx2_matches_reference) {
  if (simd_available() < SimdLevel::kAvx2) {
    std::printf("  (no AVX2/FMA on this CPU or build: skipped)\n");
    return;
  }
  check_matmul(SimdLevel::kAvx2);
}

TEST(matmul_avx512_matches_reference) {
  if (simd_available() < SimdLevel::kAvx512) {
    std::printf("  (no AVX-512 on this CPU or build: skipped)\n");
    return;
  }
  check_matmul(SimdLevel::kAvx512);
}

TEST(matmul_avx512dot_matches_reference) {
  if (simd_available() < SimdLevel::kAvx512Dot) {
    std::printf("  (no AVX512_BF16/VNNI on this CPU or build: skipped)\n");
    return;
  }
  check_matmul(SimdLevel::kAvx512Dot);
}

// The AMX level (prefill on tiles, kernels/amx) on the odd shapes: on the tiles where the CPU has AMX,
// else on the instruction model (set_amx_emulation); with the default threshold (16 tokens: three of
// the shapes) and with 2 (every shape with more than one token).
TEST(matmul_amx_matches_reference) {
  if (simd_available() < SimdLevel::kAvx512Dot) {
    std::printf("  (no AVX512_BF16/VNNI on this CPU or build: skipped)\n");
    return;
  }
  const bool model = !amx_available();
  if (model) std::printf("  (amx: %s; on the instruction model)\n", amx_status());
  set_amx_emulation(model);
  const int64_t before = detail::amx_model_calls(), min_tokens = amx_min_tokens();
  check_matmul(SimdLevel::kAmx);
  set_amx_min_tokens(2);
  check_matmul(SimdLevel::kAmx);
  set_amx_min_tokens(min_tokens);
  CHECK(!model || detail::amx_model_calls() > before);
  set_amx_emulation(false);
  set_simd_level(simd_available());
}

// The decode GEMVs read 1, 2 or 4 bf16 rows (decode_streams) or int8 panels (decode_panels) at once:
// every count gives the reference's results on the odd shapes above (int8: partial panels, a piece's
// panels not a multiple of the count).
TEST(matmul_avx512dot_decode_streams_match_reference) {
  if (simd_available() < SimdLevel::kAvx512Dot) {
    std::printf("  (no AVX512_BF16/VNNI on this CPU or build: skipped)\n");
    return;
  }
  const int before = decode_streams(), before_panels = decode_panels();
  for (int streams : {1, 2, 4}) {
    set_decode_streams(streams);
    set_decode_panels(streams);
    CHECK(decode_streams() == streams);
    CHECK(decode_panels() == streams);
    check_matmul(SimdLevel::kAvx512Dot);
  }
  set_decode_streams(3);  // not a supported count: the default
  set_decode_panels(3);
  CHECK(decode_streams() == 4);
  CHECK(decode_panels() == 1);
  set_decode_streams(before);
  set_decode_panels(before_panels);
}

// Decode lanes (the int8 VNNI GEMV reading 2 or 4 distant spans of a pass side by side): the reference's
// results on every odd shape (a last lane shorter than the others or empty, partial panels, pieces of every
// size over 3 threads), and in groups (a lane's range cut at the matrices' boundaries: up to 8 pieces of
// 4 matrices read at once, taken 4 at a time, bias added after each). Counts other than 1, 2, 4: the default.
TEST(decode_lanes_match_reference) {
  if (simd_available() < SimdLevel::kAvx512Dot) {
    std::printf("  (no AVX512_BF16/VNNI on this CPU or build: skipped)\n");
    return;
  }
  const int before = decode_lanes();
  // 1 as well: the other tests run the default (2 lanes), so the one-stream path is checked here
  for (int lanes : {1, 2, 4}) {
    set_decode_lanes(lanes);
    CHECK_EQ(decode_lanes(), lanes);
    check_matmul(SimdLevel::kAvx512Dot);
    check_matmul_group();
  }
  set_decode_lanes(3);  // not a lane count: the default
  CHECK_EQ(decode_lanes(), 2);
  set_decode_lanes(before);
}

// The dot kernels prepare activations with their own instruction set: the values must be exactly
// those of the scalar references the matmul tests (and the int8 accuracy figures) are built on.
TEST(dot_activation_prep_matches_scalar) {
  if (simd_available() < SimdLevel::kAvx512Dot) {
    std::printf("  (no AVX512_BF16/VNNI on this CPU or build: skipped)\n");
    return;
  }
  for (int64_t cols : {1, 15, 16, 17, 31, 32, 33, 77, 1536}) {
    const int64_t T = 3;
    auto x = testutil::random_vec(static_cast<size_t>(T * cols), static_cast<uint32_t>(cols), 5.f);
    x[0] = 0.f;
    if (cols >= 32)
      for (int64_t i = 0; i < 32; ++i) x[cols + i] = 0.f;  // an all-zero block: scale 1, codes 0
    std::vector<uint16_t> b(x.size() + 1, 0xabcd);
    detail::round_bf16_dot(x.data(), static_cast<int64_t>(x.size()), b.data());
    for (size_t i = 0; i < x.size(); ++i) CHECK_EQ(b[i], f32_to_bf16(x[i]));
    CHECK_EQ(b[x.size()], 0xabcd);  // the masked tail writes nothing past the end
  }
}

// The VNNI panel kernel's activations: the reference codes and scales, rows padded with zero codes to
// whole blocks, and -128 x each block's sum of codes (what the unsigned weights' +128 adds).
TEST(q8_panel_activation_prep_matches_scalar) {
  if (simd_available() < SimdLevel::kAvx512Dot) {
    std::printf("  (no AVX512_VNNI on this CPU or build: skipped)\n");
    return;
  }
  for (int64_t cols : {1, 15, 16, 17, 31, 32, 33, 77, 1536}) {
    const int64_t T = 3, nb = q8_blocks(cols), kpad = q8_padded_cols(cols);
    auto x = testutil::random_vec(static_cast<size_t>(T * cols), static_cast<uint32_t>(cols), 5.f);
    if (cols >= 32)
      for (int64_t i = 0; i < 32; ++i) x[cols + i] = 0.f;  // an all-zero block: scale 1, codes 0
    std::vector<int8_t> q(static_cast<size_t>(T * kpad), 99), qref(static_cast<size_t>(cols));
    std::vector<float> s(static_cast<size_t>(T * nb)), sref(static_cast<size_t>(nb));
    std::vector<int32_t> sum(s.size());
    detail::quantize_q8_panels_x(x.data(), T, cols, q.data(), s.data(), sum.data());
    for (int64_t t = 0; t < T; ++t) {
      quantize_q8_row(x.data() + t * cols, cols, qref.data(), sref.data());
      for (int64_t i = 0; i < kpad; ++i) CHECK_EQ(static_cast<int>(q[t * kpad + i]), i < cols ? static_cast<int>(qref[i]) : 0);
      for (int64_t b = 0; b < nb; ++b) {
        CHECK_EQ(s[t * nb + b], sref[b]);
        int want = 0;
        for (int64_t i = b * kQ8Block; i < std::min(cols, (b + 1) * kQ8Block); ++i) want += qref[i];
        CHECK_EQ(sum[t * nb + b], -128 * want);
      }
    }
  }
}

TEST(rmsnorm_matches_reference) {
  for (int64_t n : {1, 7, 64, 129}) {
    auto x = testutil::random_vec(static_cast<size_t>(3 * n), 1, 3.f);
    auto w = testutil::random_vec(static_cast<size_t>(n), 2);
    std::vector<float> y(x.size());
    rmsnorm(x.data(), n, w.data(), 3, n, 1e-6f, y.data(), n);
    for (int r = 0; r < 3; ++r) {
      double ss = 0;
      for (int64_t i = 0; i < n; ++i) ss += double(x[r * n + i]) * x[r * n + i];
      double inv = 1.0 / std::sqrt(ss / n + 1e-6);
      for (int64_t i = 0; i < n; ++i) CHECK_NEAR(y[r * n + i], x[r * n + i] * inv * w[i], 1e-5);
    }
  }
}

TEST(softmax_and_silu_match_reference) {
  for (int64_t n : {1, 2, 9, 100}) {
    auto x = testutil::random_vec(static_cast<size_t>(n), 3, 20.f);
    auto y = x;
    softmax(y.data(), n);
    double m = *std::max_element(x.begin(), x.end()), sum = 0;
    for (float v : x) sum += std::exp(v - m);
    for (int64_t i = 0; i < n; ++i) CHECK_NEAR(y[i], std::exp(x[i] - m) / sum, 1e-6);
  }
  auto g = testutil::random_vec(2 * 13, 4, 6.f), u = testutil::random_vec(2 * 13, 5);
  std::vector<float> out(26);
  silu_mul(g.data(), 13, u.data(), 13, 2, 13, out.data(), 13);
  for (int i = 0; i < 26; ++i) CHECK_NEAR(out[i], g[i] / (1 + std::exp(-double(g[i]))) * u[i], 1e-5);
}

// silu_mul's vectorized exp (AVX-512): relative error against double-precision silu over the whole range where
// silu is neither 0 nor g in float (and beyond it, where it must saturate cleanly), odd lengths so
// the scalar tail runs too, and out aliasing gate as the MLP calls it.
TEST(silu_matches_reference_over_its_range) {
  const int64_t n = 2001;
  std::vector<float> g(static_cast<size_t>(n)), u(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) g[i] = -110.f + 220.f * i / (n - 1), u[i] = 0.5f + (i % 7) * 0.25f;
  g[3] = 0.f, g[4] = -0.f, g[5] = 1e-30f, g[6] = -88.5f, g[7] = 88.9f;
  for (SimdLevel level : {SimdLevel::kNone, simd_available()}) {  // std::exp, and the vectorized exp where built
    set_simd_level(level);
    std::vector<float> out = g;
    silu_mul(out.data(), n, u.data(), n, 1, n, out.data(), n);  // in place, as the MLP runs it
    for (int64_t i = 0; i < n; ++i) {
      const double want = g[i] / (1 + std::exp(-double(g[i]))) * u[i];
      CHECK(std::isfinite(out[i]));
      CHECK_NEAR(out[i], want, 1e-6 * std::fabs(want) + 1e-30);
    }
  }
  set_simd_level(simd_available());
}

TEST(rope_matches_complex_rotation_in_both_layouts) {
  RopeConfig cfg;
  cfg.theta = 10000;
  const int dim = 8;
  RopeTable t = make_rope_table(cfg, dim, 4096);
  for (int i = 0; i < dim / 2; ++i) CHECK_NEAR(t.inv_freq[i], std::pow(10000.0, -2.0 * i / dim), 1e-7);
  auto x = testutil::random_vec(2 * 10, 6);  // 2 heads, stride 10, rotary part 8
  for (bool inter : {false, true}) {
    auto y = x;
    apply_rope(t, y.data(), 2, 10, 17, inter);
    for (int h = 0; h < 2; ++h) {
      for (int i = 0; i < dim / 2; ++i) {
        int a = inter ? 2 * i : i, b = inter ? 2 * i + 1 : i + dim / 2;
        double ang = 17 * double(t.inv_freq[i]);
        double re = x[h * 10 + a] * std::cos(ang) - x[h * 10 + b] * std::sin(ang);
        double im = x[h * 10 + b] * std::cos(ang) + x[h * 10 + a] * std::sin(ang);
        CHECK_NEAR(y[h * 10 + a], re, 1e-5);
        CHECK_NEAR(y[h * 10 + b], im, 1e-5);
      }
      CHECK_EQ(y[h * 10 + 8], x[h * 10 + 8]);  // beyond the rotary part: untouched
    }
    // Angles computed once (as a forward pass does for all its layers) give exactly the same values.
    std::vector<float> cs(dim), z = x;
    rope_angles(t, 17, cs.data());
    apply_rope(t, cs.data(), z.data(), 2, 10, inter);
    for (size_t i = 0; i < z.size(); ++i) CHECK_EQ(z[i], y[i]);
  }
}

TEST(rope_yarn_and_llama3_tables) {
  RopeConfig y;
  y.type = "yarn";
  y.theta = 10000;
  y.factor = 4;
  y.original_max_position = 1024;
  y.mscale = 1;
  y.mscale_all_dim = 1;
  RopeTable t = make_rope_table(y, 8, 4096);
  CHECK_NEAR(t.attention_factor, 1.0, 1e-7);  // mscale / mscale_all_dim cancel
  // Highest frequency is extrapolated (unchanged), lowest interpolated (divided by the factor).
  CHECK_NEAR(t.inv_freq[0], 1.0, 1e-7);
  CHECK_NEAR(t.inv_freq[3], std::pow(10000.0, -6.0 / 8) / 4, 1e-7);
  y.mscale = 0;
  CHECK_NEAR(make_rope_table(y, 8, 4096).attention_factor, 0.1 * std::log(4.0) + 1, 1e-6);

  RopeConfig l;
  l.type = "llama3";
  l.theta = 500000;
  l.factor = 8;
  l.original_max_position = 1024;
  RopeTable lt = make_rope_table(l, 16, 4096);
  for (int i = 0; i < 8; ++i) {
    double f = std::pow(500000.0, -2.0 * i / 16), wl = 2 * M_PI / f, expect = f;
    if (wl > 1024) expect = f / 8;
    else if (wl >= 256) {
      double s = (1024 / wl - 1) / 3;
      expect = (1 - s) * f / 8 + s * f;
    }
    CHECK_NEAR(lt.inv_freq[i], expect, 1e-6 * f + 1e-9);
  }
}

TEST(attention_head_matches_naive) {
  for (int64_t n : {1, 2, 17}) {
    const int64_t d = 12, dv = 5, ld = 20;
    auto q = testutil::random_vec(d, 1), k = testutil::random_vec(n * ld, 2), v = testutil::random_vec(n * ld, 3);
    std::vector<float> sc(n), out(dv);
    attention_head(q.data(), k.data(), ld, v.data() + 3, ld, n, d, dv, 0.3f, sc.data(), out.data());
    std::vector<double> p(n);
    double m = -1e30, sum = 0;
    for (int64_t t = 0; t < n; ++t) {
      double s = 0;
      for (int64_t i = 0; i < d; ++i) s += double(q[i]) * k[t * ld + i];
      p[t] = s * 0.3;
      m = std::max(m, p[t]);
    }
    for (auto& x : p) sum += (x = std::exp(x - m));
    for (int64_t j = 0; j < dv; ++j) {
      double o = 0;
      for (int64_t t = 0; t < n; ++t) o += p[t] / sum * v[t * ld + 3 + j];
      CHECK_NEAR(out[j], o, 1e-5);
    }
  }
}

// attention_group (a GQA group's heads over one K/V head) against a double-precision reference, on the
// portable path and the AVX-512 kernel where built: heads from 1 to more than the kernel's 16 per call,
// positions around its blocks of 32 and groups of 4, d and dv with vector tails and dv over its 128
// columns per pass (MLA reads 576 / 512), strided q, out, keys and values. Scores far apart (x30) so the
// softmax is peaked and its exp's lower range is used.
TEST(attention_group_matches_naive) {
  struct Shape {
    int64_t heads, n, d, dv;
  };
  const Shape shapes[] = {{1, 1, 12, 5},   {6, 161, 128, 128}, {3, 4, 17, 16},  {7, 33, 16, 130},
                          {2, 64, 33, 257}, {18, 5, 128, 128},  {1, 97, 576, 512}, {5, 31, 8, 1}};
  for (SimdLevel level : {SimdLevel::kNone, simd_available()}) {
    set_simd_level(level);
    for (const Shape& s : shapes) {
      for (float amp : {1.f, 30.f}) {
        const int64_t ldq = s.d + 3, ldk = s.d + s.dv + 7, ldo = s.dv + 2;
        auto q = testutil::random_vec(static_cast<size_t>(s.heads * ldq), 11, amp);
        auto kv = testutil::random_vec(static_cast<size_t>(s.n * ldk + s.dv), 12);
        const float* k = kv.data();
        const float* v = kv.data() + s.d + 1;  // values after the key in each row, as the dense cache
        std::vector<float> sc(static_cast<size_t>(s.heads * s.n), -1.f), out(static_cast<size_t>(s.heads * ldo), 7.f);
        const float scale = 0.125f;
        attention_group(q.data(), ldq, s.heads, k, ldk, v, ldk, s.n, s.d, s.dv, scale, sc.data(), out.data(), ldo);
        for (int64_t h = 0; h < s.heads; ++h) {
          std::vector<double> p(static_cast<size_t>(s.n));
          double m = -1e300, sum = 0;
          for (int64_t t = 0; t < s.n; ++t) {
            double a = 0;
            for (int64_t i = 0; i < s.d; ++i) a += double(q[h * ldq + i]) * k[t * ldk + i];
            p[t] = a * scale;
            m = std::max(m, p[t]);
          }
          for (auto& x : p) sum += (x = std::exp(x - m));
          for (int64_t j = 0; j < s.dv; ++j) {
            double o = 0;
            for (int64_t t = 0; t < s.n; ++t) o += p[t] / sum * v[t * ldk + j];
            CHECK_NEAR(out[h * ldo + j], o, 2e-5);
          }
          for (int64_t j = s.dv; j < ldo; ++j) CHECK_EQ(out[h * ldo + j], 7.f);  // the stride's gap untouched
        }
      }
    }
  }
  set_simd_level(simd_available());
}

TEST(moe_route_v3_group_limited_masks_with_minus_inf) {
  RouterParams p;
  p.n_experts = 8;
  p.top_k = 3;
  p.n_group = 2;
  p.topk_group = 1;
  p.sigmoid = true;
  p.method = "noaux_tc";
  p.norm_topk_prob = true;
  p.routed_scaling_factor = 2.5f;
  // Group 0 wins (best two biased scores), but holds only two experts with non-negative biased
  // scores: the third pick must come from group 0 too (-inf masking), never from group 1, even
  // though group 1's biased scores are larger than group 0's negative ones (HF's 0.0 mask differs).
  float logits[8] = {4, 3, -2, -2, 0, 0, 0, 0};
  float bias[8] = {0, 0, -1.5f, -1.2f, -0.9f, -0.9f, -0.9f, -0.9f};
  float scratch[18];
  int idx[3];
  float w[3];
  moe_route(logits, bias, p, scratch, idx, w);
  std::vector<int> sel(idx, idx + 3);
  std::sort(sel.begin(), sel.end());
  CHECK_EQ(sel[0], 0);
  CHECK_EQ(sel[1], 1);
  CHECK_EQ(sel[2], 3);  // 3's biased score (0.119-1.2) beats 2's (0.119-1.5)
  // Weights use unbiased sigmoid scores, renormalised, times the scaling factor.
  double s0 = 1 / (1 + std::exp(-4.0)), s1 = 1 / (1 + std::exp(-3.0)), s3 = 1 / (1 + std::exp(2.0));
  double sum = s0 + s1 + s3;
  for (int k = 0; k < 3; ++k) {
    double s = idx[k] == 0 ? s0 : idx[k] == 1 ? s1 : s3;
    CHECK_NEAR(w[k], s / sum * 2.5, 1e-6);
  }
}

TEST(moe_route_v2_softmax_greedy) {
  RouterParams p;
  p.n_experts = 5;
  p.top_k = 2;
  p.method = "greedy";
  float logits[5] = {0.1f, 2.f, -1.f, 1.5f, 0.f};
  float scratch[11];
  int idx[2];
  float w[2];
  moe_route(logits, nullptr, p, scratch, idx, w);
  CHECK_EQ(idx[0], 1);
  CHECK_EQ(idx[1], 3);
  double z = 0;
  for (float l : logits) z += std::exp(double(l));
  CHECK_NEAR(w[0], std::exp(2.0) / z, 1e-6);  // not renormalised (norm_topk_prob false)
  CHECK_NEAR(w[1], std::exp(1.5) / z, 1e-6);
}

TEST_MAIN()
