// AMX without AMX: the instruction model (amx_model.h) against hand-computed tiles, the prefill
// kernels (amx_kernels.h) on the model against the reference and the VNNI / avx512dot kernels, the
// kAmx level through matmul on the model (set_amx_emulation), and the dispatch: where the CPU lacks
// AMX the level clamps, says why, and nothing runs a tile instruction. test_amx_hw runs the kernels
// on the tiles themselves (AMX hosts only).
#include <cerrno>
#include <array>
#include <climits>
#include <cstdlib>
#include <string>

#include "amx_cases.h"
#include "common/thread_pool.h"
#include "kernels/amx/amx_kernels.h"
#include "kernels/amx/amx_model.h"

using namespace dse;
using namespace dse::amx;

namespace {

uint16_t bf(float f) { return f32_to_bf16(f); }
float c_f32(const AmxModel& m, int t, int row, int n) {
  float v;
  std::memcpy(&v, m.tile_bytes(t) + row * kMaxColsb + 4 * n, 4);
  return v;
}
int32_t c_i32(const AmxModel& m, int t, int row, int n) {
  int32_t v;
  std::memcpy(&v, m.tile_bytes(t) + row * kMaxColsb + 4 * n, 4);
  return v;
}

}  // namespace

// tileloadd: the configured rows x colsb bytes, stride apart; the rest of each row and the rows past
// the config are zero (even after a larger load); tilestored writes nothing else.
TEST(model_load_store_follow_the_config) {
  AmxModel m;
  TileConfig cfg;
  cfg.set(0, 3, 5);
  cfg.set(1, 16, 64);
  m.config(cfg);
  uint8_t src[16 * 64];
  for (int i = 0; i < 16 * 64; ++i) src[i] = static_cast<uint8_t>(i % 251 + 1);
  m.load<1>(src, 64);
  m.load<0>(src, 7);
  for (int r = 0; r < 16; ++r)
    for (int b = 0; b < 64; ++b) CHECK_EQ(int{m.tile_bytes(0)[r * 64 + b]}, r < 3 && b < 5 ? int{src[r * 7 + b]} : 0);
  CHECK_EQ(int{m.tile_bytes(1)[15 * 64 + 63]}, int{src[15 * 64 + 63]});
  uint8_t dst[4 * 9];
  std::memset(dst, 0xee, sizeof(dst));
  m.store<0>(dst, 9);
  for (int r = 0; r < 4; ++r)
    for (int b = 0; b < 9; ++b) CHECK_EQ(int{dst[r * 9 + b]}, r < 3 && b < 5 ? int{src[r * 7 + b]} : 0xee);
  m.zero<1>();
  for (int i = 0; i < 16 * 64; ++i) CHECK_EQ(int{m.tile_bytes(1)[i]}, 0);
  m.config(cfg);  // ldtilecfg zeroes every tile
  CHECK_EQ(int{m.tile_bytes(0)[0]}, 0);
}

// tdpbsud / tdpbssd by hand: A's bytes signed, B's unsigned (sud) or signed (ssd); 4 products per
// K-group, groups summed, added to C with int32 wrap-around.
TEST(model_int8_dot_products_by_hand) {
  AmxModel m;
  TileConfig cfg;
  cfg.set(0, 2, 8);  // A: 2 rows, K = 8 bytes (2 groups)
  cfg.set(1, 2, 8);  // B: 2 rows (K / 4), N = 2 columns
  cfg.set(2, 2, 8);  // C: 2 x 2 dwords
  m.config(cfg);
  const int8_t a[2][8] = {{-1, 2, -128, 127, 1, 1, 1, 1}, {3, 0, 0, 0, -2, 0, 0, 5}};
  const uint8_t b[2][8] = {{255, 1, 2, 3, 10, 0, 0, 0}, {1, 1, 1, 1, 0, 0, 0, 200}};
  m.load<0>(a, 8);
  m.load<1>(b, 8);
  m.dpbsud<2, 0, 1>();
  // C[0][0] = (-1*255 + 2*1 + -128*2 + 127*3) + (1+1+1+1) = -128 + 4; C[0][1] = -1*10 + 1*200
  // C[1][0] = 3*255 + (-2*1 + 5*1) = 768;        C[1][1] = 3*10 + 5*200 = 1030
  CHECK_EQ(c_i32(m, 2, 0, 0), -124);
  CHECK_EQ(c_i32(m, 2, 0, 1), 190);
  CHECK_EQ(c_i32(m, 2, 1, 0), 768);
  CHECK_EQ(c_i32(m, 2, 1, 1), 1030);
  m.zero<2>();
  m.dpbssd<2, 0, 1>();  // B signed: 255 -> -1, 200 -> -56
  CHECK_EQ(c_i32(m, 2, 0, 0), (1 + 2 - 256 + 381) + 4);
  CHECK_EQ(c_i32(m, 2, 0, 1), -10 - 56);
  CHECK_EQ(c_i32(m, 2, 1, 0), -3 + 3);
  // accumulation wraps: INT32_MAX + 1
  const int32_t cmax[2][2] = {{INT32_MAX, 0}, {0, 0}};
  const int8_t one[2][8] = {{1, 0, 0, 0, 0, 0, 0, 0}, {}};
  const uint8_t bone[2][8] = {{1, 0, 0, 0, 0, 0, 0, 0}, {}};
  m.load<2>(cmax, 8), m.load<0>(one, 8), m.load<1>(bone, 8);
  m.dpbsud<2, 0, 1>();
  CHECK_EQ(c_i32(m, 2, 0, 0), INT32_MIN);
}

// tdpbf16ps by hand: pairs of bf16, the SDM's order (per output, the even products summed over K and
// the odd ones, then the two sums, then C), denormal inputs as zero, denormal results flushed.
TEST(model_bf16_dot_products_by_hand) {
  AmxModel m;
  TileConfig cfg;
  cfg.set(0, 1, 8);  // A: 1 row, 2 pairs
  cfg.set(1, 2, 4);  // B: 2 rows (pairs), 1 column
  cfg.set(2, 1, 4);
  m.config(cfg);
  const uint16_t a[4] = {bf(1.5f), bf(2.f), bf(0.5f), bf(-1.f)};
  const uint16_t b[2][2] = {{bf(3.f), bf(0.25f)}, {bf(4.f), bf(1.f)}};
  m.load<0>(a, 8), m.load<1>(b, 4);
  m.dpbf16ps<2, 0, 1>();
  CHECK_EQ(c_f32(m, 2, 0, 0), 1.5f * 3 + 2 * 0.25f + 0.5f * 4 - 1.f);  // 6
  m.dpbf16ps<2, 0, 1>();  // accumulates
  CHECK_EQ(c_f32(m, 2, 0, 0), 12.f);
  // Order: even products 2^24 then 1, odd products 1 then 1. In the SDM's order 2^24 + 1 rounds to
  // 2^24 (ties to even), the odd sum is 2, and 2^24 + 2 is exact: 16777218. Pair by pair in sequence
  // each +1 would be lost (16777216).
  m.zero<2>();
  const uint16_t a2[4] = {bf(16777216.f), bf(1.f), bf(1.f), bf(1.f)};
  const uint16_t b2[2][2] = {{bf(1.f), bf(1.f)}, {bf(1.f), bf(1.f)}};
  m.load<0>(a2, 8), m.load<1>(b2, 4);
  m.dpbf16ps<2, 0, 1>();
  CHECK_EQ(c_f32(m, 2, 0, 0), 16777218.f);
  // DAZ: a denormal bf16 (0x0001, 2^-133) times 2^100 would be 2^-33; as zero it adds nothing.
  // FTZ: 2^-70 x 2^-70 = 2^-140 is an f32 denormal: flushed, C stays 0.
  m.zero<2>();
  const uint16_t a3[4] = {0x0001, bf(std::ldexp(1.f, -70)), 0, 0};
  const uint16_t b3[2][2] = {{bf(std::ldexp(1.f, 100)), bf(std::ldexp(1.f, -70))}, {0, 0}};
  m.load<0>(a3, 8), m.load<1>(b3, 4);
  m.dpbf16ps<2, 0, 1>();
  CHECK_EQ(c_f32(m, 2, 0, 0), 0.f);
  CHECK_EQ(amx_make_fp32(0x0001), 0.f);
  CHECK_EQ(amx_ftz(std::ldexp(1.f, -140)), 0.f);
  CHECK_EQ(amx_ftz(std::ldexp(1.f, -126)), std::ldexp(1.f, -126));  // the smallest normal stays
}

// What faults on the hardware throws here: a bad config (#GP), an unconfigured tile, shapes that do
// not match, tiles not distinct (#UD); tilerelease leaves no config.
TEST(model_faults_as_the_hardware_would) {
  AmxModel m;
  TileConfig big;
  big.set(0, 17, 64);
  CHECK_THROWS(m.config(big), ErrorKind::kInternal, "#GP");
  TileConfig half;
  half.set(0, 4, 0);
  CHECK_THROWS(m.config(half), ErrorKind::kInternal, "#GP");
  TileConfig p2;
  p2.palette_id = 2;
  CHECK_THROWS(m.config(p2), ErrorKind::kInternal, "#GP");
  uint8_t buf[1024] = {};
  CHECK_THROWS(m.load<0>(buf, 64), ErrorKind::kInternal, "#UD");
  TileConfig cfg;
  cfg.set(0, 16, 32);  // A: K = 32 bytes
  cfg.set(1, 8, 64);   // B: 8 rows
  cfg.set(2, 16, 64);  // C
  cfg.set(3, 15, 64);  // C with a row count A lacks
  cfg.set(4, 4, 64);   // B with the wrong K
  m.config(cfg);
  m.dpbsud<2, 0, 1>();  // the shapes of the int8 kernel: fine
  CHECK_THROWS((m.dpbsud<3, 0, 1>()), ErrorKind::kInternal, "C and A rows differ");
  CHECK_THROWS((m.dpbsud<2, 0, 4>()), ErrorKind::kInternal, "A colsb / 4 != B rows");
  CHECK_THROWS((m.dpbsud<2, 0, 0>()), ErrorKind::kInternal, "not distinct");
  CHECK_THROWS((m.dpbsud<2, 0, 5>()), ErrorKind::kInternal, "unconfigured tile 5");
  m.release();
  CHECK(!m.configured());
  CHECK_THROWS(m.zero<0>(), ErrorKind::kInternal, "without a tile configuration");
}

// The kernels on the model: the reference on every odd shape, and the VNNI kernel's int8 results
// bit for bit (the same integers, the same FMA per block) where this CPU has VNNI.
TEST(q8_kernel_on_model_matches_reference_and_vnni) {
  const bool vnni = simd_available() >= SimdLevel::kAvx512Dot;
  if (!vnni) std::printf("  (no AVX512_VNNI here: against the reference only)\n");
  amxcases::check_q8(detail::matmul_q8_amx_model, vnni ? amxcases::q8vnni : nullptr);
}

TEST(bf16_kernel_on_model_matches_reference_and_avx512dot) {
  const bool dot = simd_available() >= SimdLevel::kAvx512Dot;
  if (!dot) std::printf("  (no AVX512_BF16 here: against the reference only)\n");
  amxcases::check_bf16(detail::matmul_bf16_amx_model, dot ? amxcases::bf16dot : nullptr);
}

// The hardware kernel packs bf16 panels with AVX-512 transposes: the plain packer's bytes, for every
// row count of a panel and odd column counts (a short last K step, half a pair); and the kernel on the
// model with that packer.
TEST(bf16_panel_packers_agree) {
  if (simd_available() < SimdLevel::kAvx512Dot) {
    std::printf("  (no AVX-512 dot products here: skipped)\n");
    return;
  }
  for (int64_t cols : {1, 2, 31, 32, 33, 63, 64, 65, 130, 1536})
    for (int64_t nr : {1, 7, 15, 16}) {
      const int64_t rows = nr + 5, o0 = 3, nk = (cols + 31) / 32;
      std::vector<uint16_t> w;
      for (float f : testutil::random_vec(static_cast<size_t>(rows * cols), static_cast<uint32_t>(cols + nr))) w.push_back(bf(f));
      std::vector<uint16_t> a(static_cast<size_t>(nk * 512), 0xdead), b(a.size(), 0xbeef);
      pack_bf16_panel(w.data(), cols, o0, o0 + nr, a.data());
      detail::pack_bf16_panel_avx512(w.data(), cols, o0, o0 + nr, b.data());
      if (a != b) FAILMSG("cols " << cols << ", " << nr << " rows: the packers differ");
      CHECK_EQ(a[static_cast<size_t>((cols - 1) % 32 / 2 * 32 + 2 * (nr - 1) + (cols - 1) % 2 + (nk - 1) * 512)],
               w[static_cast<size_t>((o0 + nr - 1) * cols + cols - 1)]);  // the last value where it belongs
    }
}

namespace {
void bf16_model_avx512_packing(const uint16_t* w, const uint16_t* xb, int64_t rows, int64_t cols, int64_t r0,
                               int64_t r1, int64_t t0, int64_t t1, float* y) {
  AmxModel tiles;
  std::vector<uint16_t> packed;
  amx_bf16_rows(tiles, w, xb, rows, cols, r0, r1, t0, t1, y, packed, detail::pack_bf16_panel_avx512);
}
}  // namespace
TEST(bf16_kernel_on_model_with_avx512_packing) {
  if (simd_available() < SimdLevel::kAvx512Dot) {
    std::printf("  (no AVX-512 dot products here: skipped)\n");
    return;
  }
  amxcases::check_bf16(bf16_model_avx512_packing, amxcases::bf16dot);
}

// The availability decision, from synthetic cpuid / XCR0 values and permission answers: each missing
// piece named, the permission asked only when everything else is there, a refusal a clean "no".
namespace {
int perm_calls = 0;
int perm_ok() { return ++perm_calls, 0; }
int perm_refused() { return ++perm_calls, ENOSPC; }
}  // namespace
TEST(amx_decision_names_what_is_missing) {
  char buf[96];
  const char* why = nullptr;
  detail::AmxProbe p;
  p.built = true, p.osxsave = true, p.xcr0 = 0xe7 | (3ull << 17);
  p.leaf7_edx = (1u << 22) | (1u << 24) | (1u << 25);
  perm_calls = 0;
  CHECK(detail::amx_decide(p, perm_ok, buf, sizeof(buf), &why));
  CHECK_EQ(std::string(why), "available");
  CHECK_EQ(perm_calls, 1);
  struct Case {
    detail::AmxProbe p;
    const char* want;
  };
  detail::AmxProbe nb = p, nt = p, nbf = p, ni = p, nx = p, nos = p;
  nb.built = false, nt.leaf7_edx &= ~(1u << 24), nbf.leaf7_edx &= ~(1u << 22), ni.leaf7_edx &= ~(1u << 25);
  nx.xcr0 &= ~(1ull << 18), nos.osxsave = false;
  const Case cases[] = {{nb, "not built"}, {nt, "no amx-tile in cpuid"}, {nbf, "no amx-bf16 in cpuid"},
                        {ni, "no amx-int8 in cpuid"}, {nx, "XCR0"}, {nos, "XCR0"}};
  perm_calls = 0;
  for (const Case& c : cases) {
    CHECK(!detail::amx_decide(c.p, perm_ok, buf, sizeof(buf), &why));
    CHECK(std::string(why).find(c.want) != std::string::npos);
  }
  CHECK_EQ(perm_calls, 0);
  CHECK(!detail::amx_decide(p, perm_refused, buf, sizeof(buf), &why));
  CHECK_EQ(std::string(why), "arch_prctl(ARCH_REQ_XCOMP_PERM, XTILEDATA) refused (errno " + std::to_string(ENOSPC) + ")");
}

// On a CPU without AMX: the level clamps to the best other level, amx_status says why, and a prefill
// at the asked-for level runs the avx512dot kernels (a tile instruction here would be SIGILL).
TEST(amx_level_clamps_without_amx) {
  if (amx_available()) {
    std::printf("  (this CPU has AMX: test_amx_hw covers it)\n");
    return;
  }
  std::printf("  amx: unavailable (%s)\n", amx_status());
  CHECK(std::string(amx_status()) != "available");
  CHECK(simd_available() < SimdLevel::kAmx);
  set_simd_level(SimdLevel::kAmx);
  CHECK(simd_level() == simd_available());
  ThreadPool pool(2);
  const int64_t T = 40, cols = 96, rows = 70;
  auto x = testutil::random_vec(static_cast<size_t>(T * cols), 3);
  Weight w;
  w.format = WFormat::kBF16, w.rows = rows, w.cols = cols;
  for (float f : testutil::random_vec(static_cast<size_t>(rows * cols), 4)) w.bf16.push_back(f32_to_bf16(f));
  std::vector<float> y(static_cast<size_t>(T * rows));
  const int64_t before = detail::amx_model_calls();
  matmul(w, x.data(), T, y.data(), nullptr, &pool);
  CHECK_EQ(detail::amx_model_calls(), before);
  set_simd_level(simd_available());
}

// DSE_SIMD=amx (ctest runs this case with it set): the AMX level where available, else the best
// other level, with the reason on stderr.
TEST(env_simd_amx_selects_or_clamps) {
  const char* env = std::getenv("DSE_SIMD");
  if (!env || std::string(env) != "amx") {
    std::printf("  (DSE_SIMD is not amx: skipped)\n");
    return;
  }
  CHECK(simd_level() == (amx_available() ? SimdLevel::kAmx : simd_available()));
}

// The kAmx level through matmul, on the model: prefill (T >= amx_min_tokens()) on the tile kernels
// with the pool's row split and bias; int8 the VNNI level's results bit for bit, bf16 within rounding;
// decode (T = 1) and short prompts unchanged.
TEST(amx_level_on_model_through_matmul) {
  if (simd_available() < SimdLevel::kAvx512Dot) {
    std::printf("  (no AVX-512 dot products here: skipped)\n");
    return;
  }
  set_amx_emulation(true);
  ThreadPool pool(3);
  for (int f = 0; f < 2; ++f)
    for (const auto& s : {std::array<int64_t, 3>{37, 130, 129}, {16, 33, 200}, {15, 64, 64}, {1, 100, 70}, {20, 7, 17}}) {
      const int64_t T = s[0], cols = s[1], rows = s[2];
      const int64_t before = detail::amx_model_calls();
      amxcases::check_amx_level(amxcases::random_weight(f == 1, rows, cols, static_cast<uint32_t>(rows + f)), T, pool, 21);
      CHECK_EQ(detail::amx_model_calls() > before, T >= amx_min_tokens());
    }
  set_amx_emulation(false);
}

// The kAmx level chosen while the model stood in for the tiles, the model then switched off: on a CPU
// without AMX a prefill must not reach a tile instruction (SIGILL) but run the avx512dot kernels.
TEST(amx_level_left_selected_without_the_model_runs_no_tile) {
  if (simd_available() < SimdLevel::kAvx512Dot || amx_available()) {
    std::printf("  (no AVX-512 dot products here, or real AMX: skipped)\n");
    return;
  }
  ThreadPool pool(2);
  for (bool int8 : {false, true}) {
    const Weight w = amxcases::random_weight(int8, 40, 130, 5);
    auto x = testutil::random_vec(static_cast<size_t>(37 * 130), 6);
    std::vector<float> ya(static_cast<size_t>(37 * 40)), yd(ya.size());
    set_simd_level(SimdLevel::kAvx512Dot);
    matmul(w, x.data(), 37, yd.data(), nullptr, &pool);
    set_amx_emulation(true);
    set_simd_level(SimdLevel::kAmx);  // the model makes the level available; switched off, it stays selected
    set_amx_emulation(false);
    CHECK(simd_level() == SimdLevel::kAmx);
    const int64_t before = detail::amx_model_calls();
    matmul(w, x.data(), 37, ya.data(), nullptr, &pool);
    CHECK_EQ(detail::amx_model_calls(), before);
    CHECK(std::memcmp(ya.data(), yd.data(), ya.size() * sizeof(float)) == 0);
  }
  set_simd_level(SimdLevel::kAvx512Dot);
}

TEST_MAIN()
