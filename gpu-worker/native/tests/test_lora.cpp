// LoRA adapters at run time against the same adapters merged into the weights by the project's
// reference tool (scripts/merge_lora.py, fixtures from scripts/make_lora_fixtures.py): logits within
// 1e-4 and identical greedy tokens for every architecture; two adapters and the base model in one
// batch; adapters unloaded mid-generation; bad adapters refused with their fault named; the same over
// an int8-quantized base (against the merged f32 model, within int8's stated tolerance).
#include <algorithm>

#include "check.h"
#include "engine/engine.h"
#include "kernels/matmul.h"
#include "test_util.h"

using namespace dse;

namespace {

const char* kModels[] = {"tiny-deepseek-v3", "tiny-deepseek-noqlora", "tiny-deepseek-v2-lite", "tiny-qwen2",
                         "tiny-llama"};

std::string lora_dir(const std::string& model, const std::string& adapter) {
  return testutil::fixtures_dir() + "/../lora/" + model + "/" + adapter;
}

// int8: weight matrices quantized at load (test_int8.cpp); adapters stay f32 over them.
std::unique_ptr<Engine> load(const std::string& dir, bool int8 = false) {
  EngineOptions opts;
  opts.threads = 2;
  opts.max_sequences = 4;
  opts.int8 = int8;
  return Engine::load(dir, opts);
}

std::vector<int> input_ids(const std::string& model) {
  return testutil::read_json(testutil::model_dir(model) + "/golden.json")["input_ids"].get<std::vector<int>>();
}

// Starts every (prompt, adapter) at once and steps them together until all finish; tokens per start.
std::vector<std::vector<int>> generate(Engine& e, const std::vector<std::pair<std::vector<int>, int>>& starts,
                                       int max_tokens) {
  SamplingParams sp;
  sp.max_tokens = max_tokens;
  std::map<int, size_t> index;
  for (size_t i = 0; i < starts.size(); ++i) index[e.start(starts[i].first, sp, starts[i].second)] = i;
  std::vector<std::vector<int>> out(starts.size());
  for (int guard = 0; guard < 200 && e.active() > 0; ++guard)
    for (const auto& ev : e.step())
      if (ev.token >= 0) out[index.at(ev.seq_id)].push_back(ev.token);
  CHECK_EQ(e.active(), 0);
  return out;
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  CHECK_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(double(a[i]) - b[i]));
  return worst;
}

void runtime_matches_merged(const std::string& model) {
  const std::vector<int> ids = input_ids(model);
  auto base = load(testutil::model_dir(model));
  auto merged = load(lora_dir(model, "a-merged"));
  const int a = base->load_adapter(lora_dir(model, "a"));

  const std::vector<float> with_adapter = base->forward_logits(ids, true, a);
  const std::vector<float> reference = merged->forward_logits(ids, true);
  const double err = max_diff(with_adapter, reference);
  const double effect = max_diff(with_adapter, base->forward_logits(ids, true));
  std::printf("  %s: max |runtime - merged| = %.3g, adapter moves logits by up to %.3g\n", model.c_str(), err, effect);
  CHECK(err <= 1e-4);
  CHECK(effect > 0.05);  // the adapter really changes the model, so the comparison means something

  const auto got = generate(*base, {{ids, a}}, 16);
  const auto want = generate(*merged, {{ids, 0}}, 16);
  CHECK_EQ(got[0].size(), 16u);
  CHECK(got[0] == want[0]);
}

// Base, adapter a and adapter b in one batch (and a again, prompt cut short, so a prompt prefills
// while others decode): each gets exactly the tokens it gets alone.
void mixed_batch(const std::string& model, bool int8 = false) {
  const std::vector<int> ids = input_ids(model);
  const std::vector<int> shorter(ids.begin(), ids.begin() + 9);
  auto e = load(testutil::model_dir(model), int8);
  const int a = e->load_adapter(lora_dir(model, "a"));
  const int b = e->load_adapter(lora_dir(model, "b"));
  const std::vector<std::pair<std::vector<int>, int>> starts = {{ids, 0}, {ids, a}, {ids, b}, {shorter, a}};
  const auto together = generate(*e, starts, 12);
  for (size_t i = 0; i < starts.size(); ++i) {
    const auto alone = generate(*e, {starts[i]}, 12);
    CHECK(together[i] == alone[0]);
  }
  CHECK(together[0] != together[1]);
  CHECK(together[1] != together[2]);
  CHECK(together[0] != together[2]);
}

// An int8 base with the adapter applied at run time (in f32, over the quantized matrices) against the
// adapter merged into the f32 weights. Stated tolerance: max |dlogit| <= 2% of the logit range with
// int8 weights and f32 activations (AVX2), <= 3% when activations are quantized too (VNNI, Q8_0
// blocks). The adapter path itself adds no error: at every position the error stays within 1.5x the
// int8 base's own error against f32 (plus 1e-3) where only the weights are quantized, within 2x with
// Q8_0 activations. One exception, MoE models with Q8_0 activations only: int8 may flip a router near-tie, and the position
// that routes through another expert then errs more. tiny-deepseek-v2-lite, VNNI: at position 2 layer
// 1's third and fourth router logits are 0.1004 and 0.0923 in f32; Q8_0 moves them by -0.004 and
// +0.005, the token takes expert 4 instead of 1 and that position's error is 0.056 (2.9x the base's
// 0.019), the other 23 stay within 1.3x. Greedy tokens: identical, or they part only at a near tie of
// the f32 reference (top-two gap within twice the worst logit error), as test_int8 allows.
void int8_base_matches_merged_f32(const std::string& model, SimdLevel level) {
  set_simd_level(level);
  const bool weights_only = level < SimdLevel::kAvx512Dot;
  const std::vector<int> ids = input_ids(model);
  auto q = load(testutil::model_dir(model), true);
  auto f = load(testutil::model_dir(model));
  auto merged = load(lora_dir(model, "a-merged"));
  const int a = q->load_adapter(lora_dir(model, "a"));

  const std::vector<float> with_adapter = q->forward_logits(ids, true, a);
  const std::vector<float> reference = merged->forward_logits(ids, true);
  const auto [lo, hi] = std::minmax_element(reference.begin(), reference.end());
  const double err = max_diff(with_adapter, reference);
  const double base_err = max_diff(q->forward_logits(ids, true), f->forward_logits(ids, true));
  const double effect = max_diff(with_adapter, q->forward_logits(ids, true));
  // Positions whose error exceeds the adapter-adds-nothing bound (see above): none, or one on MoE.
  const size_t vocab = static_cast<size_t>(merged->config().vocab_size);
  const double bound = (weights_only ? 1.5 : 2.0) * base_err + 1e-3;
  size_t over = 0;
  for (size_t p = 0; p * vocab < reference.size(); ++p) {
    const auto at = [&](const std::vector<float>& v) {
      return std::vector<float>(v.begin() + p * vocab, v.begin() + (p + 1) * vocab);
    };
    if (max_diff(at(with_adapter), at(reference)) > bound) ++over;
  }

  const auto got = generate(*q, {{ids, a}}, 16)[0];
  const auto want = generate(*merged, {{ids, 0}}, 16)[0];
  CHECK_EQ(got.size(), 16u);
  CHECK_EQ(want.size(), 16u);
  size_t same = 0;
  while (same < got.size() && got[same] == want[same]) ++same;
  double gap = 0;  // the f32 reference's preference for its token over int8's, where they part
  if (same < got.size()) {
    std::vector<int> prefix = ids;
    prefix.insert(prefix.end(), want.begin(), want.begin() + same);
    const std::vector<float> at = merged->forward_logits(prefix, false);
    gap = double(at[want[same]]) - at[got[same]];
  }
  std::printf("  %s int8 (%s): max |runtime - merged f32| = %.4f over range %.2f (int8 base vs f32 base: %.4f), "
              "adapter moves logits by up to %.3g; greedy tokens equal for %zu/16 (f32 gap where they part: %.4f); "
              "positions over %.4f: %zu\n",
              model.c_str(), simd_name(level), err, double(*hi - *lo), base_err, effect, same, gap, bound, over);
  CHECK(err <= (weights_only ? 0.02 : 0.03) * (*hi - *lo));
  // (no flip was seen with weights-only int8, whose error is smaller: no exception there)
  CHECK(over <= (!weights_only && merged->config().n_routed_experts > 0 ? 1u : 0u));
  CHECK(effect > 0.05);
  CHECK(gap <= 2 * err);
  set_simd_level(simd_available());
}

std::string adapter_copy(const std::string& name, const std::string& model = "tiny-llama") {
  const std::string dir = testutil::temp_dir(name);
  testutil::copy_file(lora_dir(model, "a") + "/adapter_config.json", dir + "/adapter_config.json");
  testutil::copy_file(lora_dir(model, "a") + "/adapter_model.safetensors", dir + "/adapter_model.safetensors");
  return dir;
}

void edit_config(const std::string& dir, const std::function<void(nlohmann::json&)>& fn) {
  nlohmann::json j = testutil::read_json(dir + "/adapter_config.json");
  fn(j);
  testutil::write_file(dir + "/adapter_config.json", j.dump());
}

}  // namespace

TEST(runtime_matches_merged_tiny_deepseek_v3) { runtime_matches_merged("tiny-deepseek-v3"); }
TEST(runtime_matches_merged_tiny_deepseek_noqlora) { runtime_matches_merged("tiny-deepseek-noqlora"); }
TEST(runtime_matches_merged_tiny_deepseek_v2_lite) { runtime_matches_merged("tiny-deepseek-v2-lite"); }
TEST(runtime_matches_merged_tiny_qwen2) { runtime_matches_merged("tiny-qwen2"); }
TEST(runtime_matches_merged_tiny_llama) { runtime_matches_merged("tiny-llama"); }

TEST(mixed_batch_every_architecture) {
  for (const char* m : kModels) mixed_batch(m);
}

TEST(int8_base_with_runtime_adapter_close_to_merged_f32_avx2) {
  if (simd_available() < SimdLevel::kAvx2) {
    std::printf("  (no AVX2/FMA on this CPU or build: skipped)\n");
    return;
  }
  for (const char* m : kModels) int8_base_matches_merged_f32(m, SimdLevel::kAvx2);  // int8 weights, f32 activations
}

TEST(int8_base_with_runtime_adapter_close_to_merged_f32_vnni) {
  if (simd_available() < SimdLevel::kAvx512Dot) {
    std::printf("  (no AVX512_BF16/VNNI on this CPU or build: skipped)\n");
    return;
  }
  for (const char* m : kModels) int8_base_matches_merged_f32(m, SimdLevel::kAvx512Dot);  // activations Q8_0 too
}

TEST(int8_base_mixed_batch_every_architecture) {
  for (const char* m : kModels) mixed_batch(m, true);
}

TEST(unload_keeps_running_sequences_and_refuses_new_ones) {
  const std::vector<int> ids = input_ids("tiny-llama");
  auto e = load(testutil::model_dir("tiny-llama"));
  const int a = e->load_adapter(lora_dir("tiny-llama", "a"));
  const auto alone = generate(*e, {{ids, a}}, 8);
  SamplingParams sp;
  sp.max_tokens = 8;
  const int seq = e->start(ids, sp, a);
  e->unload_adapter(a);
  CHECK(e->adapters().empty());
  std::vector<int> got;
  for (int guard = 0; guard < 50 && e->active() > 0; ++guard)
    for (const auto& ev : e->step())
      if (ev.seq_id == seq && ev.token >= 0) got.push_back(ev.token);
  CHECK(got == alone[0]);
  CHECK_THROWS(e->start(ids, sp, a), ErrorKind::kBadRequest, "no LoRA adapter");
  CHECK_THROWS(e->unload_adapter(a), ErrorKind::kBadRequest, "no LoRA adapter");
  CHECK_THROWS(e->forward_logits(ids, false, 77), ErrorKind::kBadRequest, "no LoRA adapter 77");
}

TEST(bad_adapters_are_refused_with_their_fault_named) {
  auto llama = load(testutil::model_dir("tiny-llama"));
  auto v3 = load(testutil::model_dir("tiny-deepseek-v3"));
  // Another base model: DeepSeek has no k_proj; llama's matrices have other shapes than the V3 adapter's.
  CHECK_THROWS(v3->load_adapter(lora_dir("tiny-llama", "a")), ErrorKind::kBadCheckpoint, "another base model");
  CHECK_THROWS(llama->load_adapter(lora_dir("tiny-deepseek-v3", "a")), ErrorKind::kBadCheckpoint, "another base model");

  std::string d = adapter_copy("lora_rank");
  edit_config(d, [](nlohmann::json& j) { j["r"] = 5; });
  CHECK_THROWS(llama->load_adapter(d), ErrorKind::kBadCheckpoint, "but rank 5 over the base matrix");

  d = adapter_copy("lora_truncated");
  const std::string st = testutil::read_file(d + "/adapter_model.safetensors");
  testutil::write_file(d + "/adapter_model.safetensors", st.substr(0, st.size() - 100));
  CHECK_THROWS(llama->load_adapter(d), ErrorKind::kBadCheckpoint, "truncated");
  testutil::write_file(d + "/adapter_model.safetensors", st.substr(0, 5));
  CHECK_THROWS(llama->load_adapter(d), ErrorKind::kBadCheckpoint, "truncated");

  d = adapter_copy("lora_json");
  testutil::write_file(d + "/adapter_config.json", "{\"r\": 8, \"lora_alpha\": ");
  CHECK_THROWS(llama->load_adapter(d), ErrorKind::kBadCheckpoint, "not valid JSON");
  edit_config(d = adapter_copy("lora_types"), [](nlohmann::json& j) { j["lora_alpha"] = "sixteen"; });
  CHECK_THROWS(llama->load_adapter(d), ErrorKind::kBadCheckpoint, "lora_alpha");
  edit_config(d, [](nlohmann::json& j) { j["lora_alpha"] = 16; j["target_modules"] = "(unclosed"; });
  CHECK_THROWS(llama->load_adapter(d), ErrorKind::kBadCheckpoint, "regular expression");

  d = testutil::temp_dir("lora_empty");
  CHECK_THROWS(llama->load_adapter(d), ErrorKind::kBadCheckpoint, "no adapter_config.json");
  CHECK_THROWS(llama->load_adapter(d + "/missing"), ErrorKind::kBadCheckpoint, "no adapter_config.json");
  testutil::copy_file(lora_dir("tiny-llama", "a") + "/adapter_config.json", d + "/adapter_config.json");
  CHECK_THROWS(llama->load_adapter(d), ErrorKind::kBadCheckpoint, "no adapter_model.safetensors");

  edit_config(d = adapter_copy("lora_targets"), [](nlohmann::json& j) { j["target_modules"] = {"q_proj"}; });
  CHECK_THROWS(llama->load_adapter(d), ErrorKind::kBadCheckpoint, "target_modules do not name");
  edit_config(d = adapter_copy("lora_dora"), [](nlohmann::json& j) { j["use_dora"] = true; });
  CHECK_THROWS(llama->load_adapter(d), ErrorKind::kUnsupported, "DoRA");
  edit_config(d = adapter_copy("lora_bias"), [](nlohmann::json& j) { j["bias"] = "all"; });
  CHECK_THROWS(llama->load_adapter(d), ErrorKind::kUnsupported, "bias");
  edit_config(d = adapter_copy("lora_save"), [](nlohmann::json& j) { j["modules_to_save"] = {"lm_head"}; });
  CHECK_THROWS(llama->load_adapter(d), ErrorKind::kUnsupported, "modules_to_save");
  edit_config(d = adapter_copy("lora_ia3"), [](nlohmann::json& j) { j["peft_type"] = "IA3"; });
  CHECK_THROWS(llama->load_adapter(d), ErrorKind::kUnsupported, "IA3");
  CHECK(llama->adapters().empty());
}

TEST_MAIN()
