#include "kernels/rope.h"

#include <algorithm>
#include <cmath>

namespace dse {

namespace {

constexpr double kPi = 3.14159265358979323846;

double yarn_get_mscale(double scale, double mscale) {
  if (scale <= 1.0) return 1.0;
  return 0.1 * mscale * std::log(scale) + 1.0;
}

double yarn_correction_dim(double rotations, int dim, double base, double max_pos) {
  return (dim * std::log(max_pos / (rotations * 2 * kPi))) / (2 * std::log(base));
}

}  // namespace

RopeTable make_rope_table(const RopeConfig& cfg, int dim, int max_position) {
  RopeTable t;
  t.dim = dim;
  const int half = dim / 2;
  t.inv_freq.resize(half);
  // HF computes base ** (arange(0, dim, 2) / dim) in float32; mirror it to stay within float noise.
  std::vector<float> base_freq(half);
  for (int i = 0; i < half; ++i) {
    float expo = static_cast<float>(2 * i) / static_cast<float>(dim);
    base_freq[i] = 1.0f / static_cast<float>(std::pow(static_cast<float>(cfg.theta), expo));
  }
  if (cfg.type == "linear") {
    for (int i = 0; i < half; ++i) t.inv_freq[i] = base_freq[i] / static_cast<float>(cfg.factor);
  } else if (cfg.type == "llama3") {
    const double old_ctx = cfg.original_max_position > 0 ? cfg.original_max_position : 8192;
    const double low_wavelen = old_ctx / cfg.low_freq_factor;
    const double high_wavelen = old_ctx / cfg.high_freq_factor;
    for (int i = 0; i < half; ++i) {
      double f = base_freq[i];
      double wavelen = 2 * kPi / f;
      double out = wavelen > low_wavelen ? f / cfg.factor : f;
      if (!(wavelen < high_wavelen) && !(wavelen > low_wavelen)) {
        double smooth = (old_ctx / wavelen - cfg.low_freq_factor) / (cfg.high_freq_factor - cfg.low_freq_factor);
        out = (1 - smooth) * out / cfg.factor + smooth * out;
      }
      t.inv_freq[i] = static_cast<float>(out);
    }
  } else if (cfg.type == "yarn") {
    const double orig = cfg.original_max_position > 0 ? cfg.original_max_position : max_position;
    double factor = cfg.factor;
    if (cfg.original_max_position > 0 && max_position > 0) factor = max_position / cfg.original_max_position;
    if (cfg.attention_factor > 0) {
      t.attention_factor = static_cast<float>(cfg.attention_factor);
    } else if (cfg.mscale != 0 && cfg.mscale_all_dim != 0) {
      t.attention_factor =
          static_cast<float>(yarn_get_mscale(factor, cfg.mscale) / yarn_get_mscale(factor, cfg.mscale_all_dim));
    } else {
      t.attention_factor = static_cast<float>(yarn_get_mscale(factor, 1.0));
    }
    double low = std::floor(yarn_correction_dim(cfg.beta_fast, dim, cfg.theta, orig));
    double high = std::ceil(yarn_correction_dim(cfg.beta_slow, dim, cfg.theta, orig));
    low = std::max(low, 0.0);
    high = std::min(high, static_cast<double>(dim - 1));
    if (low == high) high += 0.001;
    for (int i = 0; i < half; ++i) {
      double ramp = std::min(1.0, std::max(0.0, (i - low) / (high - low)));
      double extrap_factor = 1.0 - ramp;
      double extrap = base_freq[i];
      double interp = base_freq[i] / factor;
      t.inv_freq[i] = static_cast<float>(interp * (1 - extrap_factor) + extrap * extrap_factor);
    }
  } else {
    t.inv_freq = base_freq;
  }
  return t;
}

void rope_angles(const RopeTable& table, int64_t pos, float* cs) {
  const int half = table.dim / 2;
  for (int i = 0; i < half; ++i) {
    const float angle = static_cast<float>(pos) * table.inv_freq[i];  // float32 product, as HF
    cs[i] = static_cast<float>(std::cos(static_cast<double>(angle))) * table.attention_factor;
    cs[half + i] = static_cast<float>(std::sin(static_cast<double>(angle))) * table.attention_factor;
  }
}

void apply_rope(const RopeTable& table, const float* cs, float* x, int64_t heads, int64_t stride, bool interleaved) {
  const int half = table.dim / 2;
  for (int i = 0; i < half; ++i) {
    const float c = cs[i], s = cs[half + i];
    for (int64_t h = 0; h < heads; ++h) {
      float* v = x + h * stride;
      float* a = interleaved ? v + 2 * i : v + i;
      float* b = interleaved ? v + 2 * i + 1 : v + i + half;
      const float x0 = *a, x1 = *b;
      *a = x0 * c - x1 * s;
      *b = x1 * c + x0 * s;
    }
  }
}

void apply_rope(const RopeTable& table, float* x, int64_t heads, int64_t stride, int64_t pos, bool interleaved) {
  thread_local std::vector<float> cs;
  cs.resize(static_cast<size_t>(table.dim / 2 * 2));
  rope_angles(table, pos, cs.data());
  apply_rope(table, cs.data(), x, heads, stride, interleaved);
}

}  // namespace dse
