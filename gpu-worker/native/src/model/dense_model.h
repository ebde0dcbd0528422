// Llama / Qwen2 decoder: GQA attention with optional q/k/v bias, rotate-half rope, SwiGLU MLP.
#pragma once
#include "model/model_common.h"

namespace dse {

std::unique_ptr<Model> make_dense_model(const ModelConfig& cfg, const TensorSource& src, const LoadOptions& opts);

}  // namespace dse
