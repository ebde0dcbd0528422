#include "memory/weight.h"

#include "common/dtype.h"

namespace dse {

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
      for (int64_t c = 0; c < cols; ++c) out[c] = static_cast<float>(i8[off + c]) * scale[r];
      break;
  }
}

std::vector<float> Weight::to_f32() const {
  std::vector<float> out(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) row_f32(r, out.data() + r * cols);
  return out;
}

}  // namespace dse
