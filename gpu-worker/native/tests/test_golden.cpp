// Whole-model check against HF transformers (float32): logits at the recorded positions within
// 1e-3, argmax at every position, and the 16-token greedy continuation through the scheduler.
#include <algorithm>

#include "check.h"
#include "engine/engine.h"
#include "test_util.h"

using namespace dse;

namespace {

int argmax(const float* v, int n) { return static_cast<int>(std::max_element(v, v + n) - v); }

void run_golden(const std::string& name) {
  const std::string dir = testutil::model_dir(name);
  auto g = testutil::read_json(dir + "/golden.json");
  std::vector<int> ids = g["input_ids"].get<std::vector<int>>();
  EngineOptions opts;
  opts.threads = 2;
  auto engine = Engine::load(dir, opts);
  const int V = engine->config().vocab_size;
  std::vector<float> all = engine->forward_logits(ids, true);
  CHECK_EQ(all.size(), ids.size() * V);

  double worst = 0;
  for (auto& kv : g["logits_rows"].items()) {
    int pos = std::stoi(kv.key());
    auto ref = kv.value().get<std::vector<float>>();
    CHECK_EQ(static_cast<int>(ref.size()), V);
    for (int i = 0; i < V; ++i) worst = std::max(worst, std::fabs(double(all[pos * V + i]) - ref[i]));
  }
  auto last = g["logits_last"].get<std::vector<float>>();
  for (int i = 0; i < V; ++i)
    worst = std::max(worst, std::fabs(double(all[(ids.size() - 1) * V + i]) - last[i]));
  std::printf("  %s: max |logit - HF| = %.3g\n", name.c_str(), worst);
  CHECK(worst <= 1e-3);

  auto am = g["argmax_per_position"].get<std::vector<int>>();
  for (size_t p = 0; p < ids.size(); ++p) CHECK_EQ(argmax(all.data() + p * V, V), am[p]);

  // The last-position-only path must agree with the all-positions path.
  std::vector<float> only_last = engine->forward_logits(ids, false);
  for (int i = 0; i < V; ++i) CHECK_NEAR(only_last[i], all[(ids.size() - 1) * V + i], 1e-5);

  auto expect = g["greedy_continuation"].get<std::vector<int>>();
  SamplingParams sp;
  sp.max_tokens = static_cast<int>(expect.size());
  int id = engine->start(ids, sp);
  std::vector<int> got;
  FinishReason fin = FinishReason::kNone;
  for (int guard = 0; guard < 100 && fin == FinishReason::kNone; ++guard)
    for (auto& ev : engine->step()) {
      CHECK_EQ(ev.seq_id, id);
      if (ev.token >= 0) got.push_back(ev.token);
      fin = ev.finish;
    }
  CHECK(fin == FinishReason::kLength);
  CHECK_EQ(got.size(), expect.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK_EQ(got[i], expect[i]);
  CHECK_EQ(engine->active(), 0);
}

}  // namespace

TEST(golden_tiny_deepseek_v3) { run_golden("tiny-deepseek-v3"); }
TEST(golden_tiny_deepseek_noqlora) { run_golden("tiny-deepseek-noqlora"); }
TEST(golden_tiny_deepseek_v2_lite) { run_golden("tiny-deepseek-v2-lite"); }
TEST(golden_tiny_qwen2) { run_golden("tiny-qwen2"); }
TEST(golden_tiny_llama) { run_golden("tiny-llama"); }

TEST_MAIN()
