// INT8 weight-only quantization (per-row scales) at load: per-element error bound, and whole-model
// logits close to float32. Stated tolerance: max |logit_int8 - logit_f32| <= 2% of the logit range
// on the fixtures, with the same greedy argmax at (nearly) every position.
#include <algorithm>
#include <cmath>

#include "check.h"
#include "engine/engine.h"
#include "loader/weight_loader.h"
#include "test_util.h"

using namespace dse;

TEST(quantize_rows_error_bound) {
  const int64_t rows = 9, cols = 77;
  auto w = testutil::random_vec(rows * cols, 11, 3.f);
  std::vector<int8_t> q(w.size());
  std::vector<float> s(rows);
  quantize_rows_i8(w.data(), rows, cols, q.data(), s.data());
  for (int64_t r = 0; r < rows; ++r) {
    float amax = 0;
    for (int64_t c = 0; c < cols; ++c) amax = std::max(amax, std::fabs(w[r * cols + c]));
    CHECK_NEAR(s[r], amax / 127, 1e-7);
    for (int64_t c = 0; c < cols; ++c) CHECK(std::fabs(q[r * cols + c] * s[r] - w[r * cols + c]) <= s[r] / 2 + 1e-7);
  }
}

TEST(int8_model_logits_close_to_f32) {
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
    double worst = 0, lo = 1e30, hi = -1e30;
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
    }
    std::printf("  %s: int8 max |dlogit| = %.4f over range %.2f, argmax agrees at %d/%zu\n", name, worst, hi - lo,
                same, ids.size());
    CHECK(worst <= 0.02 * (hi - lo));
    CHECK(same >= static_cast<int>(ids.size()) - 1);
  }
}

TEST_MAIN()
