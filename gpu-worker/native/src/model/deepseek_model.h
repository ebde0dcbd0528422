// DeepSeek-V2 / V3 decoder: multi-head latent attention (with or without q_lora) caching only the
// compressed latent and the roped key part, absorbed into query/output at attention time;
// DeepSeekMoE feed-forward after the first_k_dense_replace dense layers.
#pragma once
#include "model/model_common.h"

namespace dse {

std::unique_ptr<Model> make_deepseek_model(const ModelConfig& cfg, const TensorSource& src, const LoadOptions& opts);

}  // namespace dse
