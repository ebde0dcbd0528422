// Bad checkpoints and bad requests: each fails with a typed error naming the problem.
#include <fstream>

#include "check.h"
#include "engine/engine.h"
#include "loader/safetensors.h"
#include "test_util.h"

using namespace dse;

namespace {

const char* kModel = "tiny-llama";

// Copy of the tiny Llama fixture, optionally with config.json rewritten and tensors edited.
std::string broken_copy(const std::string& name,
                        const std::function<void(std::map<std::string, testutil::RawTensor>&)>& edit,
                        const std::function<std::string(std::string)>& edit_config = nullptr) {
  std::string dir = testutil::temp_dir(name);
  std::string src = testutil::model_dir(kModel);
  std::string cfg = testutil::read_file(src + "/config.json");
  testutil::write_file(dir + "/config.json", edit_config ? edit_config(cfg) : cfg);
  auto t = testutil::read_safetensors(src + "/model.safetensors");
  if (edit) edit(t);
  testutil::write_safetensors(dir + "/model.safetensors", t);
  return dir;
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  s.replace(s.find(from), from.size(), to);
  return s;
}

EngineOptions opts() {
  EngineOptions o;
  o.threads = 1;
  return o;
}

}  // namespace

TEST(missing_tensor_is_named) {
  auto dir = broken_copy("missing", [](auto& t) { t.erase("model.layers.1.self_attn.k_proj.weight"); });
  CHECK_THROWS(Engine::load(dir, opts()), ErrorKind::kBadCheckpoint,
               "missing tensor 'model.layers.1.self_attn.k_proj.weight'");
}

TEST(wrong_shape_is_named) {
  auto dir = broken_copy("shape", [](auto& t) { t["model.layers.0.mlp.up_proj.weight"].shape = {64, 160}; });
  CHECK_THROWS(Engine::load(dir, opts()), ErrorKind::kBadCheckpoint,
               "'model.layers.0.mlp.up_proj.weight' has shape [64, 160], expected [160, 64]");
}

TEST(truncated_file_is_rejected) {
  auto dir = broken_copy("truncated", nullptr);
  std::string all = testutil::read_file(dir + "/model.safetensors");
  testutil::write_file(dir + "/model.safetensors", all.substr(0, all.size() - 1000));
  CHECK_THROWS(Engine::load(dir, opts()), ErrorKind::kBadCheckpoint, "truncated");
  testutil::write_file(dir + "/model.safetensors", all.substr(0, 5));
  CHECK_THROWS(Engine::load(dir, opts()), ErrorKind::kBadCheckpoint, "truncated");
  testutil::write_file(dir + "/model.safetensors", all.substr(0, 100));  // header cut short
  CHECK_THROWS(Engine::load(dir, opts()), ErrorKind::kBadCheckpoint, "truncated");
}

TEST(unknown_architecture_is_named) {
  auto dir = broken_copy("arch", nullptr, [](std::string c) { return replace(c, "LlamaForCausalLM", "GPT2LMHeadModel"); });
  CHECK_THROWS(Engine::load(dir, opts()), ErrorKind::kUnsupported, "unknown architecture 'GPT2LMHeadModel'");
}

TEST(unsupported_dtype_is_named) {
  auto dir = broken_copy("dtype", nullptr);
  std::string all = testutil::read_file(dir + "/model.safetensors");
  // Relabel one F32 tensor as I32 (same byte size, so only the dtype is wrong).
  auto pos = all.find("\"F32\"");
  all.replace(pos, 5, "\"I32\"");
  testutil::write_file(dir + "/model.safetensors", all);
  CHECK_THROWS(Engine::load(dir, opts()), ErrorKind::kUnsupported, "unsupported dtype I32");
}

TEST(missing_folder_and_bad_config) {
  CHECK_THROWS(Engine::load("/nonexistent/dir", opts()), ErrorKind::kBadCheckpoint, "/nonexistent/dir/config.json");
  auto dir = broken_copy("badjson", nullptr, [](std::string c) { return c.substr(0, c.size() / 2); });
  CHECK_THROWS(Engine::load(dir, opts()), ErrorKind::kBadCheckpoint, "not valid JSON");
  auto dir2 = broken_copy("cuda", nullptr);
  EngineOptions o = opts();
  o.backend = "cuda:99";  // unsupported both without CUDA and on a machine with fewer GPUs
  CHECK_THROWS(Engine::load(dir2, o), ErrorKind::kUnsupported, "cuda:99");
}

TEST(prompt_longer_than_context_and_bad_tokens) {
  EngineOptions o = opts();
  o.max_context = 16;
  o.max_sequences = 1;
  auto e = Engine::load(testutil::model_dir(kModel), o);
  CHECK_EQ(e->max_context(), 16);
  std::vector<int> longp(17, 3);
  CHECK_THROWS(e->start(longp, SamplingParams{}), ErrorKind::kBadRequest, "17 tokens is longer than the context of 16");
  CHECK_THROWS(e->forward_logits(longp, false), ErrorKind::kBadRequest, "longer than the context");
  CHECK_THROWS(e->start({}, SamplingParams{}), ErrorKind::kBadRequest, "empty");
  CHECK_THROWS(e->start({1, 512}, SamplingParams{}), ErrorKind::kBadRequest, "outside the vocabulary");
  SamplingParams bad;
  bad.top_p = 0.f;
  CHECK_THROWS(e->start({1}, bad), ErrorKind::kBadRequest, "top_p");
  // A full context generates until it is full, then finishes with kLength.
  SamplingParams sp;
  sp.max_tokens = 100;
  int id = e->start(std::vector<int>(14, 5), sp);
  CHECK_THROWS(e->start({1}, sp), ErrorKind::kBadRequest, "slots are busy");
  int tokens = 0;
  FinishReason fin = FinishReason::kNone;
  while (fin == FinishReason::kNone)
    for (auto& ev : e->step()) {
      CHECK_EQ(ev.seq_id, id);
      tokens += ev.token >= 0;
      fin = ev.finish;
    }
  CHECK(fin == FinishReason::kLength);
  CHECK_EQ(tokens, 2);  // 14 + 2 = 16 tokens of context
}

TEST(sharded_checkpoint_and_rope_scaling_spelling) {
  // Split the fixture over two shards with an index; and spell rope_parameters as rope_scaling.
  std::string src = testutil::model_dir("tiny-deepseek-v3");
  std::string dir = testutil::temp_dir("sharded");
  auto t = testutil::read_safetensors(src + "/model.safetensors");
  std::map<std::string, testutil::RawTensor> a, b;
  nlohmann::json map;
  int i = 0;
  for (auto& kv : t) {
    bool first = (i++ % 2) == 0;
    (first ? a : b)[kv.first] = kv.second;
    map[kv.first] = first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  testutil::write_safetensors(dir + "/model-00001-of-00002.safetensors", a);
  testutil::write_safetensors(dir + "/model-00002-of-00002.safetensors", b);
  testutil::write_file(dir + "/model.safetensors.index.json", nlohmann::json{{"weight_map", map}}.dump());
  std::string cfg = testutil::read_file(src + "/config.json");
  testutil::write_file(dir + "/config.json", replace(cfg, "\"rope_parameters\"", "\"rope_scaling\""));

  auto g = testutil::read_json(src + "/golden.json");
  auto ids = g["input_ids"].get<std::vector<int>>();
  auto ref = g["logits_last"].get<std::vector<float>>();
  auto e = Engine::load(dir, opts());
  auto got = e->forward_logits(ids, false);
  for (size_t k = 0; k < ref.size(); ++k) CHECK_NEAR(got[k], ref[k], 1e-3);
}

TEST_MAIN()
