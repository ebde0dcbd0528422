// CudaBackend: one decoder layer's blocks as kernel sequences on the backend's stream: dense GQA
// attention, MLA over the compressed latent cache with absorbed kv_b_proj, the SwiGLU MLP and the
// DeepSeekMoE block (router on the host after one device->host copy, experts and combine on device).
#include <cuda_runtime_api.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "cuda/cuda_backend_impl.h"
#include "cuda/cuda_check.cuh"
#include "cuda/gather_rows.cuh"
#include "cuda/matmul.cuh"
#include "cuda/mla_absorb.cuh"
#include "cuda/moe_combine.cuh"
#include "cuda/paged_attention.cuh"
#include "cuda/paged_kv.cuh"
#include "cuda/rmsnorm.cuh"
#include "cuda/rope.cuh"
#include "cuda/silu_mul.cuh"
#include "kernels/matmul.h"
#include "kernels/moe_route.h"

namespace dse {

void CudaBackend::Impl::mlp_forward(const DevMlp& m, const float* in, int64_t T, int64_t I, float* gbuf,
                                    float* ubuf, float* out, bool accumulate, const std::vector<LoraGroup>& lora) {
  const int64_t H = cfg.hidden_size;
  cuda::matmul_bf16(m.gate.w.get(), I, H, in, H, T, gbuf, I, nullptr, false, stream);
  lora_apply(lora, m.gate, in, H, gbuf, I);
  cuda::matmul_bf16(m.up.w.get(), I, H, in, H, T, ubuf, I, nullptr, false, stream);
  lora_apply(lora, m.up, in, H, ubuf, I);
  cuda::silu_mul(gbuf, I, ubuf, I, T, I, gbuf, I, stream);
  cuda::matmul_bf16(m.down.w.get(), H, I, gbuf, I, T, out, H, nullptr, accumulate, stream);
  lora_apply(lora, m.down, gbuf, I, out, H);
}

void CudaBackend::Impl::moe_forward(DevMoe& m, int64_t T) {
  const int64_t H = cfg.hidden_size, E = cfg.n_routed_experts, K = moe_k;
  if (m.has_shared)
    mlp_forward(m.shared, h, T, int64_t(cfg.moe_intermediate_size) * cfg.n_shared_experts, g, u, x, true,
                chunk_groups);
  CUDA_CHECK(cudaMemcpyAsync(moe_h_host.get(), h, static_cast<size_t>(T * H) * sizeof(float), cudaMemcpyDeviceToHost,
                             stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  matmul(m.gate, moe_h_host.get(), T, moe_logits.data(), nullptr, nullptr);
  for (int64_t t = 0; t < T; ++t)
    moe_route(moe_logits.data() + t * E, m.score_bias.empty() ? nullptr : m.score_bias.data(), m.router,
              moe_scratch.data(), moe_idx.data() + t * K, moe_w.data() + t * K);
  // Expert-sorted order of the (token, k) pairs: perm[n] = token, slot[t*K+k] = n.
  int32_t* perm = moe_meta_host.get();
  int32_t* slot = perm + T * K;
  std::fill(moe_count.begin(), moe_count.end(), 0);
  for (int64_t i = 0; i < T * K; ++i) ++moe_count[static_cast<size_t>(moe_idx[static_cast<size_t>(i)])];
  std::vector<int64_t>& start = moe_count;  // turned into running offsets below
  int64_t acc = 0;
  for (int64_t e = 0; e < E; ++e) {
    const int64_t c = start[static_cast<size_t>(e)];
    start[static_cast<size_t>(e)] = acc;
    acc += c;
  }
  for (int64_t t = 0; t < T; ++t)
    for (int64_t kk = 0; kk < K; ++kk) {
      const int64_t i = t * K + kk;
      const int64_t n = start[static_cast<size_t>(moe_idx[static_cast<size_t>(i)])]++;
      perm[n] = static_cast<int32_t>(t);
      slot[i] = static_cast<int32_t>(n);
      moe_w_host.get()[i] = moe_w[static_cast<size_t>(i)];
    }
  // start[e] is now the end of expert e's range.
  CUDA_CHECK(cudaMemcpyAsync(moe_meta_dev.get(), perm, static_cast<size_t>(2 * T * K) * sizeof(int32_t),
                             cudaMemcpyHostToDevice, stream));
  CUDA_CHECK(cudaMemcpyAsync(moe_w_dev.get(), moe_w_host.get(), static_cast<size_t>(T * K) * sizeof(float),
                             cudaMemcpyHostToDevice, stream));
  const int32_t* d_perm = moe_meta_dev.get();
  const int32_t* d_slot = d_perm + T * K;
  cuda::gather_rows(h, H, d_perm, T * K, H, mg, H, stream);
  // Each expert's gathered rows grouped by their tokens' adapters (expert-local row indices).
  std::vector<std::vector<LoraGroup>> expert_groups(static_cast<size_t>(E));
  if (!chunk_groups.empty()) {
    int32_t* rows = lora_rows_host.get();
    int64_t used = 0, b = 0;
    std::vector<std::pair<const DevAdapter*, int64_t>> offsets;  // per group: adapter, host offset
    for (int64_t e = 0; e < E; ++e) {
      const int64_t end = start[static_cast<size_t>(e)];
      for (const auto& [adapter, unused] : chunk_adapter_rows) {
        const int64_t first = used;
        for (int64_t r = b; r < end; ++r)
          if (row_adapter[static_cast<size_t>(perm[r])] == adapter) rows[used++] = static_cast<int32_t>(r - b);
        if (used > first) expert_groups[static_cast<size_t>(e)].push_back({adapter, nullptr, used - first});
        (void)unused;
      }
      b = end;
    }
    CUDA_CHECK(cudaMemcpyAsync(lora_rows_dev.get(), rows, static_cast<size_t>(used) * sizeof(int32_t),
                               cudaMemcpyHostToDevice, stream));
    int64_t off = 0;
    for (auto& groups : expert_groups)
      for (LoraGroup& g : groups) {
        g.rows = lora_rows_dev.get() + off;
        off += g.n;
      }
  }
  int64_t begin = 0;
  for (int64_t e = 0; e < E; ++e) {
    const int64_t end = start[static_cast<size_t>(e)], n = end - begin;
    if (n > 0)
      mlp_forward(m.experts[static_cast<size_t>(e)], mg + begin * H, n, moe_inter, mgate + begin * moe_inter,
                  mup + begin * moe_inter, mout + begin * H, false, expert_groups[static_cast<size_t>(e)]);
    begin = end;
  }
  cuda::moe_combine(x, H, T, K, H, moe_w_dev.get(), d_slot, mout, stream);
}

void CudaBackend::Impl::dense_attention(Layer& L, int l, int64_t T, const int32_t* d_pos,
                                        const int32_t* d_rowidx, cuda::PagedAttnArgs a) {
  const int64_t H = cfg.hidden_size, hd = cfg.head_dim, nh = cfg.num_heads, nkv = cfg.num_kv_heads;
  const int64_t qd = nh * hd, kvd = nkv * hd;
  float* cache = const_cast<float*>(a.cache);
  cuda::matmul_bf16(L.wq.w.get(), qd, H, h, H, T, q, qd, L.bq.get(), false, stream);
  cuda::matmul_bf16(L.wk.w.get(), kvd, H, h, H, T, k, kvd, L.bk.get(), false, stream);
  cuda::matmul_bf16(L.wv.w.get(), kvd, H, h, H, T, v, kvd, L.bv.get(), false, stream);
  lora_apply(chunk_groups, L.wq, h, H, q, qd);
  lora_apply(chunk_groups, L.wk, h, H, k, kvd);
  lora_apply(chunk_groups, L.wv, h, H, v, kvd);
  cuda::rope(q, qd, T, nh, hd, d_pos, inv_freq.get(), rope_dim, rope_attention_factor, false, stream);
  cuda::rope(k, kvd, T, nkv, hd, d_pos, inv_freq.get(), rope_dim, rope_attention_factor, false, stream);
  // Every row's K/V is cached before any row attends (rows of one prompt see each other).
  cuda::kv_scatter(k, kvd, T, kvd, d_rowidx, cache, kv_width, 0, stream);
  cuda::kv_scatter(v, kvd, T, kvd, d_rowidx, cache, kv_width, kvd, stream);
  a.q = q;
  a.ldq = qd;
  a.q_head_stride = hd;
  a.k_col = 0;
  a.v_col = kvd;
  a.kv_head_stride = hd;
  a.heads = static_cast<int>(nh);
  a.group = static_cast<int>(nh / nkv);
  a.d = static_cast<int>(hd);
  a.dv = static_cast<int>(hd);
  a.out = att;
  a.ldo = qd;
  cuda::paged_attention(a, stream);
  cuda::matmul_bf16(L.wo.w.get(), H, qd, att, qd, T, x, H, nullptr, true, stream);  // x += o_proj(att)
  lora_apply(chunk_groups, L.wo, att, qd, x, H);
  (void)l;
}

void CudaBackend::Impl::mla_attention(Layer& L, int l, int64_t T, const int32_t* d_pos, const int32_t* d_rowidx,
                                      cuda::PagedAttnArgs a) {
  const int64_t H = cfg.hidden_size, nh = cfg.num_heads, qk = cfg.qk_head_dim(), nope = cfg.qk_nope_dim;
  const int64_t P = cfg.qk_rope_dim, R = cfg.kv_lora_rank, vd = cfg.v_head_dim, width = R + P;
  const float eps = static_cast<float>(cfg.rms_eps);
  float* cache = const_cast<float*>(a.cache);
  if (cfg.q_lora_rank > 0) {
    const int64_t ql = cfg.q_lora_rank;
    cuda::matmul_bf16(L.wq_a.w.get(), ql, H, h, H, T, qa, ql, nullptr, false, stream);
    lora_apply(chunk_groups, L.wq_a, h, H, qa, ql);
    cuda::rmsnorm(qa, ql, L.q_a_norm.get(), T, ql, eps, qa, ql, stream);
    cuda::matmul_bf16(L.wq_b.w.get(), nh * qk, ql, qa, ql, T, q, nh * qk, nullptr, false, stream);
    lora_apply(chunk_groups, L.wq_b, qa, ql, q, nh * qk);
  } else {
    cuda::matmul_bf16(L.wq.w.get(), nh * qk, H, h, H, T, q, nh * qk, nullptr, false, stream);
    lora_apply(chunk_groups, L.wq, h, H, q, nh * qk);
  }
  cuda::matmul_bf16(L.wkv_a.w.get(), width, H, h, H, T, kva, width, nullptr, false, stream);
  lora_apply(chunk_groups, L.wkv_a, h, H, kva, width);
  cuda::rmsnorm(kva, width, L.kv_a_norm.get(), T, R, eps, kva, width, stream);
  cuda::rope(kva + R, width, T, 1, P, d_pos, inv_freq.get(), rope_dim, rope_attention_factor, cfg.rope_interleave,
             stream);
  cuda::kv_scatter(kva, width, T, width, d_rowidx, cache, kv_width, 0, stream);
  cuda::rope(q + nope, nh * qk, T, nh, qk, d_pos, inv_freq.get(), rope_dim, rope_attention_factor,
             cfg.rope_interleave, stream);
  cuda::mla_absorb_query(L.wkv_b.get(), T, nh, nope, P, vd, R, q, qabs, stream);
  lora_absorb_query(l, nh, q, qabs);
  a.q = qabs;
  a.ldq = nh * width;
  a.q_head_stride = width;
  a.k_col = 0;
  a.v_col = 0;
  a.kv_head_stride = 0;
  a.heads = static_cast<int>(nh);
  a.group = static_cast<int>(nh);
  a.d = static_cast<int>(width);
  a.dv = static_cast<int>(R);
  a.out = lat;
  a.ldo = nh * R;
  cuda::paged_attention(a, stream);
  cuda::mla_expand_value(L.wkv_b.get(), T, nh, nope, vd, R, lat, att, stream);
  lora_expand_value(l, nh, lat, att);
  cuda::matmul_bf16(L.wo.w.get(), H, nh * vd, att, nh * vd, T, x, H, nullptr, true, stream);  // x += o_proj
  lora_apply(chunk_groups, L.wo, att, nh * vd, x, H);
}

}  // namespace dse
