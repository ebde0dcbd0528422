#include <algorithm>

#include "cuda/cuda_check.cuh"
#include "cuda/device_util.cuh"
#include "cuda/embed.cuh"

namespace dse::cuda {

namespace {

__global__ void embed_kernel(const uint16_t* table, int64_t hidden, const int32_t* tokens, int64_t T, float* x,
                             int64_t ldx) {
  const int64_t total = T * hidden;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t t = i / hidden, c = i % hidden;
    x[t * ldx + c] = bf16_bits_to_f32(table[static_cast<int64_t>(tokens[t]) * hidden + c]);
  }
}

}  // namespace

void embed_rows(const uint16_t* table, int64_t hidden, const int32_t* tokens, int64_t T, float* x, int64_t ldx,
                cudaStream_t stream) {
  const int64_t total = T * hidden;
  if (total <= 0) return;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>((total + 255) / 256, 65535));
  embed_kernel<<<blocks, 256, 0, stream>>>(table, hidden, tokens, T, x, ldx);
  CUDA_CHECK_LAUNCH();
}

}  // namespace dse::cuda
