// A weight matrix [rows, cols] (row = output feature) in the storage format the CPU kernels read:
// f32, bf16 (converted to f32 in the matmul inner loop) or int8 in blocks of kQ8Block columns, each
// block with its own f32 scale (Q8_0-like; Q8_0's scale is fp16, so this is at least as accurate).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "memory/weight_arena.h"

namespace dse {

enum class WFormat { kF32, kBF16, kI8 };

constexpr int64_t kQ8Block = 32;
inline int64_t q8_blocks(int64_t cols) { return (cols + kQ8Block - 1) / kQ8Block; }
// Symmetric int8 per block of kQ8Block values of one row of n: scale[b] = amax / 127 (1 for an
// all-zero block), q in [-127, 127]. Used for int8 weights at load and for activations of the int8
// dot-product kernel.
void quantize_q8_row(const float* x, int64_t n, int8_t* q, float* scale);

struct Weight {
  WFormat format = WFormat::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  // Storage in the model's weight arena (memory/weight_arena.h) when loaded for the CPU backend,
  // else on the heap.
  WeightVec<float> f32;         // [rows * cols] when kF32
  WeightVec<uint16_t> bf16;     // [rows * cols] when kBF16
  WeightVec<int8_t> i8;         // [rows * cols] when kI8
  WeightVec<float> scale;       // [rows * q8_blocks(cols)] when kI8: w = i8 * scale[row block]
  bool panels = false;          // kI8 in the VNNI kernels' panel layout (memory/q8_panels.h), not by row

  size_t bytes() const { return f32.size() * 4 + bf16.size() * 2 + i8.size() + scale.size() * 4; }
  // Writes row r as f32 (used for embedding lookups and weight absorption).
  void row_f32(int64_t r, float* out) const;
  std::vector<float> to_f32() const;
};

}  // namespace dse
