#include "loader/weight_loader.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/error.h"
#include "kernels/matmul.h"
#include "memory/huge_pages.h"

namespace dse {

void quantize_rows_i8(const float* w, int64_t rows, int64_t cols, int8_t* q, float* scale) {
  for (int64_t r = 0; r < rows; ++r) quantize_q8_row(w + r * cols, cols, q + r * cols, scale + r * q8_blocks(cols));
}

const TensorView& WeightLoader::checked(const std::string& name, std::vector<int64_t> shape) const {
  const TensorView& v = src_.get(name);
  if (v.shape != shape)
    fail(ErrorKind::kBadCheckpoint, "tensor '" + name + "' has shape " + shape_str(v.shape) + ", expected " +
                                        shape_str(shape) + " (checkpoint " + src_.where() + ")");
  return v;
}

std::vector<float> WeightLoader::decode_f32(const TensorView& v) const {
  const int64_t n = v.numel();
  std::vector<float> out(static_cast<size_t>(n));
  switch (v.dtype) {
    case DType::kF32:
      std::memcpy(out.data(), v.data, static_cast<size_t>(n) * 4);
      break;
    case DType::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, v.data + 2 * i, 2);
        out[i] = bf16_to_f32(h);
      }
      break;
    case DType::kF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, v.data + 2 * i, 2);
        out[i] = f16_to_f32(h);
      }
      break;
    case DType::kF8E4M3: {
      if (v.shape.size() != 2)
        fail(ErrorKind::kBadCheckpoint, "FP8 tensor '" + v.name + "' must be 2-D to carry block scales");
      std::string sname = v.name + "_scale_inv";
      const int64_t rows = v.shape[0], cols = v.shape[1];
      const int64_t block = opts_.fp8_block;
      std::vector<int64_t> sshape = {(rows + block - 1) / block, (cols + block - 1) / block};
      const TensorView& s = checked(sname, sshape);
      if (s.dtype != DType::kF32)
        fail(ErrorKind::kUnsupported, "block scale '" + sname + "' has dtype " + dtype_name(s.dtype) + ", expected F32");
      std::vector<float> scales(static_cast<size_t>(s.numel()));
      std::memcpy(scales.data(), s.data, scales.size() * 4);
      dequant_fp8_blockscale(v.data, scales.data(), rows, cols, block, out.data());
      break;
    }
    default:
      fail(ErrorKind::kUnsupported, "tensor '" + v.name + "' has unsupported dtype");
  }
  return out;
}

template <typename T>
void WeightLoader::storage(WeightVec<T>& v, size_t n) const {
  if (!arena_) return resize_huge(v, n);
  v = WeightVec<T>(ArenaAllocator<T>(arena_));
  v.resize(n);
}

template <typename T>
void WeightLoader::adopt(WeightVec<T>& v) const {
  if (!arena_ || v.empty()) return;
  WeightVec<T> a{ArenaAllocator<T>(arena_)};
  a.assign(v.begin(), v.end());
  v = std::move(a);
}

Weight WeightLoader::matrix(const std::string& name, int64_t rows, int64_t cols, bool allow_int8) const {
  const TensorView& v = checked(name, {rows, cols});
  Weight w;
  w.rows = rows;
  w.cols = cols;
  if (opts_.int8 && allow_int8) {
    std::vector<float> f = decode_f32(v);
    w.format = WFormat::kI8;
    // quantized and repacked on the heap, then moved: the arena never frees the row-layout copy
    resize_huge(w.i8, static_cast<size_t>(rows * cols));
    resize_huge(w.scale, static_cast<size_t>(rows * q8_blocks(cols)));
    quantize_rows_i8(f.data(), rows, cols, w.i8.data(), w.scale.data());
    use_kernel_layout(w);
    adopt(w.i8);
    adopt(w.scale);
  } else if (v.dtype == DType::kBF16) {
    w.format = WFormat::kBF16;
    storage(w.bf16, static_cast<size_t>(rows * cols));
    std::memcpy(w.bf16.data(), v.data, w.bf16.size() * 2);
  } else if (v.dtype == DType::kF8E4M3) {
    // Halves memory against f32; the bf16 rounding of dequantized FP8 loses at most 1 ulp of bf16.
    std::vector<float> f = decode_f32(v);
    w.format = WFormat::kBF16;
    storage(w.bf16, f.size());
    for (size_t i = 0; i < f.size(); ++i) w.bf16[i] = f32_to_bf16(f[i]);
  } else {
    w.format = WFormat::kF32;
    const std::vector<float> f = decode_f32(v);
    storage(w.f32, f.size());
    std::copy(f.begin(), f.end(), w.f32.begin());
  }
  loaded_bytes_ += w.bytes();
  return w;
}

Weight WeightLoader::matrix_f32(const std::string& name, int64_t rows, int64_t cols) const {
  const TensorView& v = checked(name, {rows, cols});
  Weight w;
  w.rows = rows;
  w.cols = cols;
  w.format = WFormat::kF32;
  const std::vector<float> f = decode_f32(v);
  storage(w.f32, f.size());
  std::copy(f.begin(), f.end(), w.f32.begin());
  loaded_bytes_ += w.bytes();
  return w;
}

std::vector<float> WeightLoader::vector(const std::string& name, int64_t n) const {
  const TensorView& v = checked(name, {n});
  loaded_bytes_ += static_cast<size_t>(n) * 4;
  return decode_f32(v);
}

}  // namespace dse
