#include <algorithm>

#include "cuda/cuda_check.cuh"
#include "cuda/device_util.cuh"
#include "cuda/rope.cuh"

namespace dse::cuda {

namespace {

__global__ void rope_kernel(float* x, int64_t ld, int64_t T, int64_t heads, int64_t head_stride, const int32_t* pos,
                            const float* inv_freq, int half, float af, bool interleaved) {
  const int64_t total = T * heads * half;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int p = static_cast<int>(i % half);
    const int64_t h = (i / half) % heads, t = i / (half * heads);
    const float angle = static_cast<float>(pos[t]) * inv_freq[p];  // float32 product, as HF and the CPU path
    // Full-precision sin/cos (no fast-math) of the float angle; the CPU path evaluates them in double,
    // rounding to the same float within 1-2 ulp.
    const float c = static_cast<float>(cos(static_cast<double>(angle))) * af;
    const float s = static_cast<float>(sin(static_cast<double>(angle))) * af;
    float* v = x + t * ld + h * head_stride;
    float* a = interleaved ? v + 2 * p : v + p;
    float* b = interleaved ? v + 2 * p + 1 : v + p + half;
    const float x0 = *a, x1 = *b;
    *a = x0 * c - x1 * s;
    *b = x1 * c + x0 * s;
  }
}

}  // namespace

void rope(float* x, int64_t ld, int64_t T, int64_t heads, int64_t head_stride, const int32_t* pos,
          const float* inv_freq, int dim, float attention_factor, bool interleaved, cudaStream_t stream) {
  const int64_t total = T * heads * (dim / 2);
  if (total <= 0) return;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>((total + 255) / 256, 65535));
  rope_kernel<<<blocks, 256, 0, stream>>>(x, ld, T, heads, head_stride, pos, inv_freq, dim / 2, attention_factor,
                                          interleaved);
  CUDA_CHECK_LAUNCH();
}

}  // namespace dse::cuda
