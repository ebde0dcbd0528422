// Rotary embedding on device, both layouts (rotate-half: pairs i, i+dim/2; interleaved: 2i, 2i+1).
// The frequency table is the host's RopeTable (default / linear / llama3 / yarn), uploaded once.
// Reference: kernels/rope.h (apply_rope).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace dse::cuda {

// x: T rows at stride ld; row t holds `heads` vectors at stride head_stride, the rotary part at
// [0, dim) of each; rotated in place for position pos[t]. inv_freq: [dim / 2] (device).
void rope(float* x, int64_t ld, int64_t T, int64_t heads, int64_t head_stride, const int32_t* pos,
          const float* inv_freq, int dim, float attention_factor, bool interleaved, cudaStream_t stream);

}  // namespace dse::cuda
