// Rotary position embedding. The frequency table follows HF's rope initialisers (default, linear,
// llama3, yarn); application supports both layouts: rotate-half (Llama/Qwen: pairs i, i+d/2) and
// interleaved (DeepSeek: pairs 2i, 2i+1).
#pragma once
#include <cstdint>
#include <vector>

#include "loader/model_config.h"

namespace dse {

struct RopeTable {
  std::vector<float> inv_freq;  // [dim / 2]
  float attention_factor = 1.f;  // multiplies cos and sin (YaRN)
  int dim = 0;
};

RopeTable make_rope_table(const RopeConfig& cfg, int dim, int max_position);

// x: [heads, stride] with the rotary part at x[h * stride + 0 .. dim); rotated in place for `pos`.
void apply_rope(const RopeTable& table, float* x, int64_t heads, int64_t stride, int64_t pos, bool interleaved);

}  // namespace dse
