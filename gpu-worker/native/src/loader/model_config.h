// Hyper-parameters read from a Hugging Face config.json, normalised across the spellings used by
// published DeepSeek checkpoints (rope_scaling) and transformers 5 (rope_parameters).
#pragma once
#include <string>
#include <vector>

namespace dse {

enum class Arch { kLlama, kQwen2, kDeepseekV2, kDeepseekV3 };

struct RopeConfig {
  std::string type = "default";  // default | linear | llama3 | yarn
  double theta = 10000.0;
  double factor = 1.0;
  double original_max_position = 0;
  double beta_fast = 32, beta_slow = 1;
  double mscale = 0, mscale_all_dim = 0;
  double attention_factor = 0;  // 0 = derive from factor/mscale as HF does
  double low_freq_factor = 1, high_freq_factor = 4;
};

struct ModelConfig {
  Arch arch = Arch::kLlama;
  std::string arch_name;
  int vocab_size = 0;
  int hidden_size = 0;
  int num_layers = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int intermediate_size = 0;
  double rms_eps = 1e-6;
  int max_position = 4096;
  bool tie_embeddings = false;
  bool attention_bias = false;
  int bos_token_id = -1;
  std::vector<int> eos_token_ids;
  RopeConfig rope;
  bool rope_interleave = false;
  int fp8_block = 128;  // quantization_config.weight_block_size (square blocks only)

  // MLA (DeepSeek V2/V3)
  int q_lora_rank = 0;  // 0: q_proj directly
  int kv_lora_rank = 0;
  int qk_nope_dim = 0;
  int qk_rope_dim = 0;
  int v_head_dim = 0;

  // DeepSeekMoE
  int n_routed_experts = 0;
  int n_shared_experts = 0;
  int experts_per_token = 0;
  int moe_intermediate_size = 0;
  int first_k_dense_replace = 0;
  int moe_layer_freq = 1;
  int n_group = 1;
  int topk_group = 1;
  bool norm_topk_prob = false;
  double routed_scaling_factor = 1.0;
  std::string scoring_func = "softmax";  // softmax | sigmoid
  std::string topk_method = "greedy";    // greedy | group_limited_greedy | noaux_tc

  bool is_mla() const { return arch == Arch::kDeepseekV2 || arch == Arch::kDeepseekV3; }
  bool is_moe_layer(int layer) const {
    return n_routed_experts > 0 && layer >= first_k_dense_replace && layer % moe_layer_freq == 0;
  }
  int qk_head_dim() const { return qk_nope_dim + qk_rope_dim; }
  // Softmax scale of attention scores, including the YaRN mscale^2 correction for MLA.
  double softmax_scale() const;
};

ModelConfig parse_model_config(const std::string& json_text, const std::string& origin);
ModelConfig load_model_config(const std::string& model_dir);

}  // namespace dse
