// Turns checkpoint tensors into kernel-ready weights, checking names and shapes so that a bad
// checkpoint fails at load with the tensor named.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "loader/tensor_source.h"
#include "memory/weight.h"

namespace dse {

struct LoadOptions {
  bool int8 = false;       // quantize matrices to int8 with per-row scales
  int64_t fp8_block = 128;  // FP8 block-scale tile (quantization_config.weight_block_size)
  // Matrices in one huge-page arena per loader (memory/weight_arena.h), freed only with the last of
  // them: for weights that live as long as the model (the CPU backend), not for ones uploaded and
  // dropped (CUDA) or loaded and unloaded (adapters).
  bool arena = false;
};

class WeightLoader {
 public:
  WeightLoader(const TensorSource& src, LoadOptions opts)
      : src_(src), opts_(opts), arena_(opts.arena ? std::make_shared<WeightArena>() : nullptr) {}

  // Matrix [rows, cols]. Storage: int8 if requested and allow_int8, else f32 for F32/F16
  // sources and bf16 for BF16/FP8 sources (FP8 block scales are applied at load).
  Weight matrix(const std::string& name, int64_t rows, int64_t cols, bool allow_int8 = true) const;
  // Same, always f32 (router gates and MLA absorption matrices, where precision matters most).
  Weight matrix_f32(const std::string& name, int64_t rows, int64_t cols) const;
  std::vector<float> vector(const std::string& name, int64_t n) const;
  bool has(const std::string& name) const { return src_.has(name); }
  size_t loaded_bytes() const { return loaded_bytes_; }

 private:
  const TensorView& checked(const std::string& name, std::vector<int64_t> shape) const;
  std::vector<float> decode_f32(const TensorView& v) const;
  // n values of storage: in the arena, else on the heap advised for huge pages.
  template <typename T>
  void storage(WeightVec<T>& v, size_t n) const;
  // Moves heap storage into the arena (a no-op without one).
  template <typename T>
  void adopt(WeightVec<T>& v) const;

  const TensorSource& src_;
  LoadOptions opts_;
  std::shared_ptr<WeightArena> arena_;
  mutable size_t loaded_bytes_ = 0;
};

// Symmetric int8 per block of kQ8Block columns (quantize_q8_row on each row): scale has
// rows * q8_blocks(cols) entries. Plain reference used by tests too.
void quantize_rows_i8(const float* w, int64_t rows, int64_t cols, int8_t* q, float* scale);

}  // namespace dse
