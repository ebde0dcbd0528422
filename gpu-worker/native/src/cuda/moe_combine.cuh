// MoE output combine on device: x[t, :] += sum_k weight[t, k] * expert_out[slot[t, k], :], where
// expert_out holds the expert outputs of the (token, k) pairs in expert-sorted order and slot maps
// each pair to its row there. Deterministic (fixed k order, no atomics). Reference: the combine
// loop of MoeBlock::forward.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace dse::cuda {

// x: [T, ld_x]; weight, slot: [T, K]; expert_out: [T * K, H].
void moe_combine(float* x, int64_t ld_x, int64_t T, int64_t K, int64_t H, const float* weight, const int32_t* slot,
                 const float* expert_out, cudaStream_t stream);

}  // namespace dse::cuda
