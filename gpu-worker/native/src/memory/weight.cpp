#include "memory/weight.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/dtype.h"
#include "memory/q8_panels.h"

namespace dse {

void quantize_q8_row(const float* x, int64_t n, int8_t* q, float* scale) {
  for (int64_t b0 = 0, b = 0; b0 < n; b0 += kQ8Block, ++b) {
    const int64_t b1 = std::min(n, b0 + kQ8Block);
    float amax = 0.f;
    for (int64_t c = b0; c < b1; ++c) amax = std::max(amax, std::fabs(x[c]));
    const float s = amax > 0.f ? amax / 127.f : 1.f;
    const float inv = 1.f / s;
    for (int64_t c = b0; c < b1; ++c)
      q[c] = static_cast<int8_t>(std::max(-127.f, std::min(127.f, std::nearbyint(x[c] * inv))));
    scale[b] = s;
  }
}

void Weight::row_f32(int64_t r, float* out) const {
  const int64_t off = r * cols;
  switch (format) {
    case WFormat::kF32:
      for (int64_t c = 0; c < cols; ++c) out[c] = f32[off + c];
      break;
    case WFormat::kBF16:
      for (int64_t c = 0; c < cols; ++c) out[c] = bf16_to_f32(bf16[off + c]);
      break;
    case WFormat::kI8:
      if (panels) {
        std::vector<int8_t> q(static_cast<size_t>(cols));
        std::vector<float> s(static_cast<size_t>(q8_blocks(cols)));
        unpack_q8_rows(*this, r, r + 1, q.data(), s.data());
        for (int64_t c = 0; c < cols; ++c) out[c] = static_cast<float>(q[c]) * s[c / kQ8Block];
        break;
      }
      for (int64_t c = 0; c < cols; ++c) out[c] = static_cast<float>(i8[off + c]) * scale[r * q8_blocks(cols) + c / kQ8Block];
      break;
  }
}

std::vector<float> Weight::to_f32() const {
  std::vector<float> out(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) row_f32(r, out.data() + r * cols);
  return out;
}

}  // namespace dse
