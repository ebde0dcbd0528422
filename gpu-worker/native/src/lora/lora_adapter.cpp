#include "lora/lora_adapter.h"

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <sys/stat.h>

#include "common/error.h"
#include "loader/safetensors.h"
#include "loader/weight_loader.h"
#include "lora/lora_config.h"

namespace dse {

namespace {

const std::string kPrefix = "base_model.model.";
const std::string kSuffixA = ".lora_A.weight";
const std::string kSuffixB = ".lora_B.weight";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string read_config_text(const std::string& dir) {
  const std::string path = dir + "/adapter_config.json";
  std::ifstream in(path);
  if (!in) fail(ErrorKind::kBadCheckpoint, "no adapter_config.json in " + dir + " (not a PEFT adapter folder)");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The PEFT module name of an adapter tensor, or "" for a name that is not a LoRA A/B matrix.
std::string module_of(const std::string& tensor, const std::string& dir) {
  if (tensor.find("lora_embedding_") != std::string::npos)
    fail(ErrorKind::kUnsupported, "adapter " + dir + " trains embeddings ('" + tensor + "'), which are not served");
  if (tensor.find("lora_magnitude_vector") != std::string::npos)
    fail(ErrorKind::kUnsupported, "adapter " + dir + " is a DoRA adapter ('" + tensor + "'), which is not served");
  if (tensor.compare(0, kPrefix.size(), kPrefix) != 0 || !(ends_with(tensor, kSuffixA) || ends_with(tensor, kSuffixB)))
    fail(ErrorKind::kBadCheckpoint, "adapter " + dir + " holds tensor '" + tensor +
                                        "', which is not a PEFT LoRA matrix (base_model.model.<module>.lora_A/B.weight)");
  return tensor.substr(kPrefix.size(), tensor.size() - kPrefix.size() - kSuffixA.size());
}

// W + B A into a fresh f32 matrix (B already scaled).
Weight merged_copy(const Weight& w, const LoraDelta& d) {
  if (w.format != WFormat::kF32) fail(ErrorKind::kInternal, "a merged LoRA target must be an f32 matrix");
  Weight m = w;
  const int64_t r = d.a.rows;
  for (int64_t o = 0; o < w.rows; ++o)
    for (int64_t k = 0; k < r; ++k) {
      const float bk = d.b.f32[o * r + k];
      const float* arow = d.a.f32.data() + k * w.cols;
      float* mrow = m.f32.data() + o * w.cols;
      for (int64_t i = 0; i < w.cols; ++i) mrow[i] += bk * arow[i];
    }
  return m;
}

}  // namespace

size_t LoraAdapter::bytes() const {
  size_t b = 0;
  for (const auto& [w, d] : deltas) b += d.a.bytes() + d.b.bytes();
  for (const auto& [w, m] : merged) b += m.bytes();
  return b;
}

std::shared_ptr<const LoraAdapter> load_lora_adapter(const std::string& dir, const LoraTargets& targets) {
  const LoraConfig cfg = parse_lora_config(read_config_text(dir), dir + "/adapter_config.json");
  const std::string file = dir + "/adapter_model.safetensors";
  if (!exists(file)) {
    if (exists(dir + "/adapter_model.bin"))
      fail(ErrorKind::kUnsupported, "adapter " + dir + " is a pickled adapter_model.bin; save it with safetensors");
    fail(ErrorKind::kBadCheckpoint, "no adapter_model.safetensors in " + dir);
  }
  SafetensorsSource src(dir, {file});
  WeightLoader wl(src, LoadOptions{});
  std::set<std::string> modules;
  for (const auto& name : src.names()) modules.insert(module_of(name, dir));
  if (modules.empty()) fail(ErrorKind::kBadCheckpoint, "adapter " + dir + " holds no LoRA tensors");

  auto adapter = std::make_shared<LoraAdapter>();
  adapter->dir = dir;
  try {
    for (const std::string& m : modules) {
      if (!cfg.targets(m))
        fail(ErrorKind::kBadCheckpoint, "adapter " + dir + " holds LoRA matrices for '" + m +
                                            "', which its target_modules do not name");
      auto t = targets.find(m);
      if (t == targets.end())
        fail(ErrorKind::kBadCheckpoint, "adapter " + dir + " targets '" + m + "', which this base model lacks or " +
                                            "cannot adapt: was the adapter trained for another base model" +
                                            (cfg.base_model.empty() ? "" : " (it names " + cfg.base_model + ")") + "?");
      const Weight& w = *t->second.weight;
      const std::string an = kPrefix + m + kSuffixA, bn = kPrefix + m + kSuffixB;
      if (!src.has(an) || !src.has(bn))
        fail(ErrorKind::kBadCheckpoint, "adapter " + dir + " has only one of lora_A / lora_B for '" + m + "'");
      const int r = cfg.rank_of(m);
      const std::vector<int64_t> want_a = {r, w.cols}, want_b = {w.rows, r};
      if (src.get(an).shape != want_a || src.get(bn).shape != want_b)
        fail(ErrorKind::kBadCheckpoint, "adapter " + dir + ": '" + m + "' has lora_A " + shape_str(src.get(an).shape) +
                                            " and lora_B " + shape_str(src.get(bn).shape) + ", but rank " +
                                            std::to_string(r) + " over the base matrix [" + std::to_string(w.rows) +
                                            ", " + std::to_string(w.cols) + "] needs " + shape_str(want_a) + " and " +
                                            shape_str(want_b) + " (another base model, or a wrong rank_pattern?)");
      LoraDelta d;
      d.a = wl.matrix_f32(an, r, w.cols);
      d.b = wl.matrix_f32(bn, w.rows, r);
      const float s = static_cast<float>(cfg.scaling_of(m));
      for (float& v : d.b.f32) v *= s;
      adapter->max_rank = std::max(adapter->max_rank, r);
      if (t->second.merge) adapter->merged.emplace(&w, merged_copy(w, d));
      else adapter->deltas.emplace(&w, std::move(d));
    }
  } catch (const std::regex_error& e) {
    fail(ErrorKind::kBadCheckpoint, dir + "/adapter_config.json has a bad rank/alpha pattern: " + e.what());
  }
  return adapter;
}

}  // namespace dse
