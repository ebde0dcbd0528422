#include "loader/model_config.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"

namespace dse {

using nlohmann::json;

namespace {

template <typename T>
T get_or(const json& j, const char* key, T def) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return def;
  return it->get<T>();
}

int require_int(const json& j, const char* key, const std::string& origin) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer())
    fail(ErrorKind::kBadCheckpoint, origin + ": config.json lacks integer '" + key + "'");
  return it->get<int>();
}

std::vector<int> token_ids(const json& j, const char* key) {
  std::vector<int> ids;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return ids;
  if (it->is_array()) {
    for (auto& v : *it) ids.push_back(v.get<int>());
  } else {
    ids.push_back(it->get<int>());
  }
  return ids;
}

void parse_rope(const json& j, ModelConfig& c) {
  c.rope.theta = get_or<double>(j, "rope_theta", 10000.0);
  const json* rp = nullptr;
  for (const char* key : {"rope_scaling", "rope_parameters"}) {
    auto it = j.find(key);
    if (it != j.end() && it->is_object()) {
      rp = &*it;
      break;
    }
  }
  if (!rp) return;
  const json& r = *rp;
  c.rope.theta = get_or<double>(r, "rope_theta", c.rope.theta);
  std::string type = get_or<std::string>(r, "rope_type", get_or<std::string>(r, "type", "default"));
  c.rope.type = type;
  c.rope.factor = get_or<double>(r, "factor", 1.0);
  c.rope.original_max_position = get_or<double>(r, "original_max_position_embeddings", 0.0);
  c.rope.beta_fast = get_or<double>(r, "beta_fast", 32.0);
  c.rope.beta_slow = get_or<double>(r, "beta_slow", 1.0);
  c.rope.mscale = get_or<double>(r, "mscale", 0.0);
  c.rope.mscale_all_dim = get_or<double>(r, "mscale_all_dim", 0.0);
  c.rope.attention_factor = get_or<double>(r, "attention_factor", 0.0);
  c.rope.low_freq_factor = get_or<double>(r, "low_freq_factor", 1.0);
  c.rope.high_freq_factor = get_or<double>(r, "high_freq_factor", 4.0);
  if (type != "default" && type != "linear" && type != "llama3" && type != "yarn")
    fail(ErrorKind::kUnsupported, "unsupported rope type '" + type + "'");
}

}  // namespace

double ModelConfig::softmax_scale() const {
  if (!is_mla()) return 1.0 / std::sqrt(static_cast<double>(head_dim));
  double s = 1.0 / std::sqrt(static_cast<double>(qk_head_dim()));
  if (rope.type == "yarn" && rope.mscale_all_dim != 0 && rope.factor > 1) {
    double m = 0.1 * rope.mscale_all_dim * std::log(rope.factor) + 1.0;
    s *= m * m;
  }
  return s;
}

ModelConfig parse_model_config(const std::string& text, const std::string& origin) {
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    fail(ErrorKind::kBadCheckpoint, origin + ": config.json is not valid JSON: " + e.what());
  }
  ModelConfig c;
  try {
    auto archs = j.find("architectures");
    if (archs == j.end() || !archs->is_array() || archs->empty())
      fail(ErrorKind::kBadCheckpoint, origin + ": config.json has no 'architectures'");
    c.arch_name = (*archs)[0].get<std::string>();
    if (c.arch_name == "LlamaForCausalLM") c.arch = Arch::kLlama;
    else if (c.arch_name == "Qwen2ForCausalLM") c.arch = Arch::kQwen2;
    else if (c.arch_name == "DeepseekV2ForCausalLM") c.arch = Arch::kDeepseekV2;
    else if (c.arch_name == "DeepseekV3ForCausalLM") c.arch = Arch::kDeepseekV3;
    else
      fail(ErrorKind::kUnsupported, origin + ": unknown architecture '" + c.arch_name +
                                        "' (supported: DeepseekV3ForCausalLM, DeepseekV2ForCausalLM, "
                                        "Qwen2ForCausalLM, LlamaForCausalLM)");

    c.vocab_size = require_int(j, "vocab_size", origin);
    c.hidden_size = require_int(j, "hidden_size", origin);
    c.num_layers = require_int(j, "num_hidden_layers", origin);
    c.num_heads = require_int(j, "num_attention_heads", origin);
    c.num_kv_heads = get_or<int>(j, "num_key_value_heads", c.num_heads);
    c.intermediate_size = require_int(j, "intermediate_size", origin);
    c.rms_eps = get_or<double>(j, "rms_norm_eps", 1e-6);
    c.max_position = get_or<int>(j, "max_position_embeddings", 4096);
    c.tie_embeddings = get_or<bool>(j, "tie_word_embeddings", false);
    c.attention_bias = c.arch == Arch::kQwen2 || get_or<bool>(j, "attention_bias", false);
    auto bos = token_ids(j, "bos_token_id");
    c.bos_token_id = bos.empty() ? -1 : bos[0];
    c.eos_token_ids = token_ids(j, "eos_token_id");
    parse_rope(j, c);
    auto q = j.find("quantization_config");
    if (q != j.end() && q->is_object() && q->contains("weight_block_size")) {
      auto b = (*q)["weight_block_size"].get<std::vector<int>>();
      if (b.size() != 2 || b[0] != b[1] || b[0] <= 0)
        fail(ErrorKind::kUnsupported, origin + ": only square FP8 weight blocks are supported");
      c.fp8_block = b[0];
    }

    if (c.is_mla()) {
      c.q_lora_rank = get_or<int>(j, "q_lora_rank", 0);
      c.kv_lora_rank = require_int(j, "kv_lora_rank", origin);
      c.qk_nope_dim = require_int(j, "qk_nope_head_dim", origin);
      c.qk_rope_dim = require_int(j, "qk_rope_head_dim", origin);
      c.v_head_dim = require_int(j, "v_head_dim", origin);
      c.head_dim = c.qk_head_dim();
      // DeepSeek's layout is interleaved; HF V3 exposes the flag, V2 always uses the complex form.
      c.rope_interleave = get_or<bool>(j, "rope_interleave", true);
      c.n_routed_experts = get_or<int>(j, "n_routed_experts", 0);
      c.n_shared_experts = get_or<int>(j, "n_shared_experts", 0);
      c.experts_per_token = get_or<int>(j, "num_experts_per_tok", 0);
      c.moe_intermediate_size = get_or<int>(j, "moe_intermediate_size", 0);
      c.first_k_dense_replace = get_or<int>(j, "first_k_dense_replace", 0);
      c.moe_layer_freq = std::max(1, get_or<int>(j, "moe_layer_freq", 1));
      c.n_group = std::max(1, get_or<int>(j, "n_group", 1));
      c.topk_group = std::max(1, get_or<int>(j, "topk_group", 1));
      c.norm_topk_prob = get_or<bool>(j, "norm_topk_prob", false);
      c.routed_scaling_factor = get_or<double>(j, "routed_scaling_factor", 1.0);
      bool v3 = c.arch == Arch::kDeepseekV3;
      c.scoring_func = get_or<std::string>(j, "scoring_func", v3 ? "sigmoid" : "softmax");
      c.topk_method = get_or<std::string>(j, "topk_method", v3 ? "noaux_tc" : "greedy");
      if (c.scoring_func != "sigmoid" && c.scoring_func != "softmax")
        fail(ErrorKind::kUnsupported, origin + ": unsupported scoring_func '" + c.scoring_func + "'");
      if (c.topk_method != "greedy" && c.topk_method != "group_limited_greedy" && c.topk_method != "noaux_tc")
        fail(ErrorKind::kUnsupported, origin + ": unsupported topk_method '" + c.topk_method + "'");
      if (c.n_routed_experts > 1024 || c.n_group > 256)
        fail(ErrorKind::kUnsupported, origin + ": more than 1024 routed experts or 256 groups");
      if (c.n_routed_experts > 0 &&
          (c.experts_per_token <= 0 || c.n_routed_experts % c.n_group != 0 || c.topk_group > c.n_group ||
           c.experts_per_token > c.n_routed_experts / c.n_group * c.topk_group))
        fail(ErrorKind::kBadCheckpoint, origin + ": inconsistent MoE routing parameters");
    } else {
      c.head_dim = get_or<int>(j, "head_dim", 0);
      if (c.head_dim == 0) c.head_dim = c.hidden_size / c.num_heads;
    }
  } catch (const nlohmann::json::exception& e) {
    fail(ErrorKind::kBadCheckpoint, origin + ": config.json has a field of the wrong type: " + e.what());
  }
  if (c.vocab_size <= 0 || c.hidden_size <= 0 || c.num_layers <= 0 || c.num_heads <= 0 || c.num_kv_heads <= 0 ||
      c.num_heads % c.num_kv_heads != 0 || c.head_dim <= 0)
    fail(ErrorKind::kBadCheckpoint, origin + ": config.json has inconsistent sizes");
  return c;
}

ModelConfig load_model_config(const std::string& model_dir) {
  std::string path = model_dir + "/config.json";
  std::ifstream in(path);
  if (!in) fail(ErrorKind::kBadCheckpoint, "cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_model_config(ss.str(), model_dir);
}

}  // namespace dse
