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

// The cos and sin of every frequency at `pos`, attention factor included: cs[0, dim/2) cos, cs[dim/2, dim)
// sin. A forward pass computes them once per row for all its layers (two double-precision trig calls per
// frequency, ~7000 per decode step of a 28-layer model when each layer computed its own).
void rope_angles(const RopeTable& table, int64_t pos, float* cs);
// apply_rope with angles from rope_angles: the same values.
void apply_rope(const RopeTable& table, const float* cs, float* x, int64_t heads, int64_t stride, bool interleaved);

}  // namespace dse
