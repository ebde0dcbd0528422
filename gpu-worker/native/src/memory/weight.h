// A weight matrix [rows, cols] (row = output feature) in the storage format the CPU kernels read:
// f32, bf16 (converted to f32 in the matmul inner loop) or int8 with one f32 scale per row.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace dse {

enum class WFormat { kF32, kBF16, kI8 };

struct Weight {
  WFormat format = WFormat::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<float> f32;       // [rows * cols] when kF32
  std::vector<uint16_t> bf16;   // [rows * cols] when kBF16
  std::vector<int8_t> i8;       // [rows * cols] when kI8
  std::vector<float> scale;     // [rows] when kI8: w = i8 * scale[row]

  size_t bytes() const { return f32.size() * 4 + bf16.size() * 2 + i8.size() + scale.size() * 4; }
  // Writes row r as f32 (used for embedding lookups and weight absorption).
  void row_f32(int64_t r, float* out) const;
  std::vector<float> to_f32() const;
};

}  // namespace dse
