// LoRA adapters on the CUDA backend (exit 77, skipped, without a GPU): for every architecture the
// CUDA engine with adapter "a" applied at run time matches the merged model (scripts/merge_lora.py)
// run by the same backend, within the bf16 bound of test_cuda_golden; adapters a and b and the base
// model in one batch each get the tokens they get alone; unload frees the device copy.
#include <map>

#include "../check.h"
#include "../test_util.h"
#include "cuda_test_util.h"
#include "engine/engine.h"

using namespace dse;

namespace {

constexpr double kEps = 5e-2;  // bf16 weights and deltas, fp32 accumulation (see test_cuda_golden)

std::string lora_dir(const std::string& model, const std::string& adapter) {
  return testutil::fixtures_dir() + "/../lora/" + model + "/" + adapter;
}

std::unique_ptr<Engine> load_cuda(const std::string& dir) {
  EngineOptions opts;
  opts.backend = "cuda:0";
  opts.max_sequences = 4;
  return Engine::load(dir, opts);
}

std::vector<std::vector<int>> generate(Engine& e, const std::vector<std::pair<std::vector<int>, int>>& starts) {
  SamplingParams sp;
  sp.max_tokens = 8;
  std::map<int, size_t> index;
  for (size_t i = 0; i < starts.size(); ++i) index[e.start(starts[i].first, sp, starts[i].second)] = i;
  std::vector<std::vector<int>> out(starts.size());
  for (int guard = 0; guard < 100 && e.active() > 0; ++guard)
    for (const auto& ev : e.step())
      if (ev.token >= 0) out[index.at(ev.seq_id)].push_back(ev.token);
  return out;
}

void check_model(const std::string& model) {
  const std::vector<int> ids =
      testutil::read_json(testutil::model_dir(model) + "/golden.json")["input_ids"].get<std::vector<int>>();
  auto base = load_cuda(testutil::model_dir(model));
  auto merged = load_cuda(lora_dir(model, "a-merged"));
  const int a = base->load_adapter(lora_dir(model, "a"));
  const int b = base->load_adapter(lora_dir(model, "b"));
  const std::vector<float> runtime = base->forward_logits(ids, true, a);
  const std::vector<float> reference = merged->forward_logits(ids, true);
  double worst = 0;
  for (size_t i = 0; i < runtime.size(); ++i) worst = std::max(worst, std::fabs(double(runtime[i]) - reference[i]));
  std::printf("  %s: max |runtime - merged| on CUDA = %.3g (bound %.3g)\n", model.c_str(), worst, kEps);
  CHECK(worst <= kEps);

  const std::vector<std::pair<std::vector<int>, int>> starts = {{ids, 0}, {ids, a}, {ids, b}};
  const auto together = generate(*base, starts);
  for (size_t i = 0; i < starts.size(); ++i) CHECK(together[i] == generate(*base, {starts[i]})[0]);
  base->unload_adapter(a);
  base->unload_adapter(b);
  CHECK(base->adapters().empty());
}

}  // namespace

TEST(cuda_lora_tiny_deepseek_v3) { check_model("tiny-deepseek-v3"); }
TEST(cuda_lora_tiny_deepseek_noqlora) { check_model("tiny-deepseek-noqlora"); }
TEST(cuda_lora_tiny_deepseek_v2_lite) { check_model("tiny-deepseek-v2-lite"); }
TEST(cuda_lora_tiny_qwen2) { check_model("tiny-qwen2"); }
TEST(cuda_lora_tiny_llama) { check_model("tiny-llama"); }

int main(int argc, char** argv) {
  if (cudatest::skip_without_device()) return cudatest::kSkip;
  return check::run_all(argc, argv);
}
