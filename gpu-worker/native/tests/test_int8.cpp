// INT8 weight quantization (blocks of 32 columns with their own scale) at load: per-element error bound, and whole-model
// logits close to float32. Stated tolerance: max |logit_int8 - logit_f32| <= 2% of the logit range
// on the fixtures, with the same greedy argmax at (nearly) every position.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "check.h"
#include "engine/engine.h"
#include "kernels/amx/amx_matmul.h"
#include "kernels/matmul.h"
#include "loader/weight_loader.h"
#include "test_util.h"

using namespace dse;

namespace {

}  // namespace

TEST(quantize_rows_error_bound) {
  // 77 columns: two full blocks of 32 and a tail block of 13, each with its own scale.
  const int64_t rows = 9, cols = 77, nb = q8_blocks(cols);
  CHECK_EQ(nb, 3);
  auto w = testutil::random_vec(rows * cols, 11, 3.f);
  w[5] = 40.f;  // an outlier widens only its own block's scale
  std::vector<int8_t> q(w.size());
  std::vector<float> s(rows * nb);
  quantize_rows_i8(w.data(), rows, cols, q.data(), s.data());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b = 0; b < nb; ++b) {
      float amax = 0;
      for (int64_t c = b * kQ8Block; c < std::min(cols, (b + 1) * kQ8Block); ++c)
        amax = std::max(amax, std::fabs(w[r * cols + c]));
      const float sb = s[r * nb + b];
      CHECK_NEAR(sb, amax / 127, 1e-7);
      for (int64_t c = b * kQ8Block; c < std::min(cols, (b + 1) * kQ8Block); ++c)
        CHECK(std::fabs(q[r * cols + c] * sb - w[r * cols + c]) <= sb / 2 + 1e-7);
    }
  }
  CHECK(s[1] < 40.f / 127 / 2);  // row 0, block 1 is not affected by the outlier in block 0
}

namespace {

// Logits of the int8 model against the f32 one (the fixtures are f32: a stricter reference than bf16).
// Where the argmax differs, the two tokens must be a near tie in f32 (gap within the worst error).
void check_int8_logits(SimdLevel level) {
  set_simd_level(level);
  std::printf("  SIMD: %s\n", simd_name(simd_level()));
  for (const char* name : {"tiny-llama", "tiny-qwen2", "tiny-deepseek-v3", "tiny-deepseek-v2-lite"}) {
    auto g = testutil::read_json(testutil::model_dir(name) + "/golden.json");
    auto ids = g["input_ids"].get<std::vector<int>>();
    EngineOptions o;
    o.threads = 2;
    auto f = Engine::load(testutil::model_dir(name), o);
    o.int8 = true;
    auto q = Engine::load(testutil::model_dir(name), o);
    CHECK(q->weight_bytes() < f->weight_bytes() / 2);
    const int V = f->config().vocab_size;
    auto lf = f->forward_logits(ids, true), lq = q->forward_logits(ids, true);
    double worst = 0, lo = 1e30, hi = -1e30, widest_tie = 0;
    int same = 0;
    for (size_t p = 0; p < ids.size(); ++p) {
      for (int i = 0; i < V; ++i) {
        worst = std::max(worst, std::fabs(double(lf[p * V + i]) - lq[p * V + i]));
        lo = std::min(lo, double(lf[p * V + i]));
        hi = std::max(hi, double(lf[p * V + i]));
      }
      auto af = std::max_element(lf.begin() + p * V, lf.begin() + (p + 1) * V) - (lf.begin() + p * V);
      auto aq = std::max_element(lq.begin() + p * V, lq.begin() + (p + 1) * V) - (lq.begin() + p * V);
      same += af == aq;
      widest_tie = std::max(widest_tie, double(lf[p * V + af]) - lf[p * V + aq]);
    }
    std::printf("  %s: int8 max |dlogit| = %.4f over range %.2f, argmax agrees at %d/%zu (f32 gap where not: %.4f)\n",
                name, worst, hi - lo, same, ids.size(), widest_tie);
    CHECK(worst <= 0.02 * (hi - lo));
    CHECK(widest_tie <= 2 * worst);
    CHECK(same >= static_cast<int>(ids.size()) - 3);
  }
  set_simd_level(simd_available());
}

}  // namespace

TEST(int8_model_logits_close_to_f32_avx2) {
  if (simd_available() < SimdLevel::kAvx2) {
    std::printf("  (no AVX2/FMA on this CPU or build: skipped)\n");
    return;
  }
  check_int8_logits(SimdLevel::kAvx2);  // weights int8, activations f32
}

TEST(int8_model_logits_close_to_f32_vnni) {
  if (simd_available() < SimdLevel::kAvx512Dot) {
    std::printf("  (no AVX512_BF16/VNNI on this CPU or build: skipped)\n");
    return;
  }
  check_int8_logits(SimdLevel::kAvx512Dot);  // activations quantized per block too, as Q8_0 does
}

// The AMX level (prefill on tiles; on the instruction model where the CPU has no AMX), prompts of 2
// tokens and more on the tiles: every model's int8 logits are the VNNI level's bit for bit (the same
// integers and the same per-block FMA, in the engine's own matmuls, groups and row split).
TEST(int8_model_logits_amx_level_equal_vnni) {
  if (simd_available() < SimdLevel::kAvx512Dot) {
    std::printf("  (no AVX512_BF16/VNNI on this CPU or build: skipped)\n");
    return;
  }
  const bool model = !amx_available();
  if (model) std::printf("  (amx: %s; on the instruction model)\n", amx_status());
  set_amx_emulation(model);
  const int64_t min_tokens = amx_min_tokens(), calls = detail::amx_model_calls();
  set_amx_min_tokens(2);
  for (const char* name : {"tiny-llama", "tiny-qwen2", "tiny-deepseek-v3", "tiny-deepseek-v2-lite"}) {
    auto ids = testutil::read_json(testutil::model_dir(name) + "/golden.json")["input_ids"].get<std::vector<int>>();
    EngineOptions o;
    o.threads = 2;
    o.int8 = true;
    set_simd_level(SimdLevel::kAvx512Dot);
    auto q = Engine::load(testutil::model_dir(name), o);
    const auto dot = q->forward_logits(ids, true);
    set_simd_level(SimdLevel::kAmx);
    CHECK(simd_level() == SimdLevel::kAmx);
    const auto amx = q->forward_logits(ids, true);
    CHECK_EQ(dot.size(), amx.size());
    size_t differ = 0;
    for (size_t i = 0; i < dot.size(); ++i) differ += std::memcmp(&dot[i], &amx[i], 4) != 0;
    std::printf("  %s: %zu tokens, %zu of %zu logits differ from the VNNI level's\n", name, ids.size(), differ, dot.size());
    CHECK_EQ(differ, size_t{0});
  }
  CHECK(!model || detail::amx_model_calls() > calls);
  set_amx_min_tokens(min_tokens);
  set_amx_emulation(false);
  set_simd_level(simd_available());
}

TEST_MAIN()
