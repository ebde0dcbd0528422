// Scalar conversions for the checkpoint dtypes. These are the plain references the SIMD paths and
// the loader are tested against.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

namespace dse {

enum class DType { kF32, kBF16, kF16, kF8E4M3, kUnknown };

DType dtype_from_safetensors(const std::string& name);
const char* dtype_name(DType t);
size_t dtype_size(DType t);

inline float bf16_to_f32(uint16_t v) {
  uint32_t bits = static_cast<uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round-to-nearest-even, NaN kept quiet; matches torch's float->bfloat16 cast.
inline uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
  uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

// OCP FP8 E4M3 (the "fn" variant DeepSeek-V3 uses): no infinities, 0x7f/0xff are NaN, max 448.
float fp8_e4m3_to_f32(uint8_t v);

// Dequantizes a DeepSeek-V3 FP8 weight [rows, cols] with 128x128 block scales
// scale_inv[ceil(rows/128), ceil(cols/128)]: w = fp8 * scale_inv[r/128][c/128].
void dequant_fp8_blockscale(const uint8_t* w, const float* scale_inv, int64_t rows, int64_t cols,
                            int64_t block, float* out);

}  // namespace dse
