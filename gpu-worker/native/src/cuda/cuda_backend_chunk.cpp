// CudaBackend: one device forward over a chunk of batch rows: the chunk's metadata (tokens,
// positions, KV rows, block tables) staged and uploaded in one copy, the layers in order (captured
// once per decode shape as a CUDA graph when enabled), and the logits rows copied back to the host.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <mutex>
#include <tuple>
#include <vector>

#include "cuda/cuda_backend_impl.h"
#include "cuda/cuda_check.cuh"
#include "cuda/embed.cuh"
#include "cuda/gather_rows.cuh"
#include "cuda/matmul.cuh"
#include "cuda/paged_attention.cuh"
#include "cuda/rmsnorm.cuh"

namespace dse {

int64_t CudaBackend::Impl::run_chunk(const std::vector<BatchToken>& batch, size_t b0, size_t b1, float* out) {
  const int64_t T = static_cast<int64_t>(b1 - b0), R = copts.max_rows;
  const int64_t H = cfg.hidden_size, V = cfg.vocab_size;
  const int32_t bs = copts.block_size;
  int32_t* mh = meta_host.get();
  int32_t *tokens = mh, *pos = mh + R, *n_ctx = mh + 2 * R, *row_index = mh + 3 * R, *row_seq = mh + 4 * R,
          *logit_rows = mh + 5 * R, *tables = mh + 6 * R;
  // Chunk-local sequence table: one block-table row per distinct slot.
  int32_t S = 0, width_blocks = 0;
  for (size_t i = b0; i < b1; ++i) {
    const int slot = batch[i].slot;
    if (slot_to_seq[static_cast<size_t>(slot)] < 0) {
      slot_to_seq[static_cast<size_t>(slot)] = S++;
      width_blocks = std::max<int32_t>(width_blocks, static_cast<int32_t>(pages->table(slot).size()));
    }
  }
  width_blocks = std::max<int32_t>(width_blocks, 1);
  if (copts.cuda_graphs) {  // few distinct strides -> few captured shapes
    int32_t p2 = 1;
    while (p2 < width_blocks) p2 *= 2;
    width_blocks = std::min(p2, max_blocks_per_seq);
  }
  int64_t nl = 0;
  for (size_t i = b0; i < b1; ++i) {
    const BatchToken& b = batch[i];
    const int64_t t = static_cast<int64_t>(i - b0);
    tokens[t] = b.token;
    pos[t] = b.pos;
    n_ctx[t] = b.pos + 1;
    row_index[t] = pages->block_of(b.slot, b.pos) * bs + b.pos % bs;
    row_seq[t] = slot_to_seq[static_cast<size_t>(b.slot)];
    if (b.logits) logit_rows[nl++] = static_cast<int32_t>(t);
  }
  for (size_t i = b0; i < b1; ++i) {
    const int slot = batch[i].slot;
    const int seq = slot_to_seq[static_cast<size_t>(slot)];
    if (seq < 0) continue;  // already written
    const auto& tab = pages->table(slot);
    std::copy(tab.begin(), tab.end(), tables + int64_t(seq) * width_blocks);
    slot_to_seq[static_cast<size_t>(slot)] = -1;
  }
  const size_t meta_n = static_cast<size_t>(6 * R + int64_t(S) * width_blocks);
  CUDA_CHECK(cudaMemcpyAsync(meta_dev.get(), mh, meta_n * sizeof(int32_t), cudaMemcpyHostToDevice, stream));
  std::unique_lock<std::mutex> lora_lock(lora_mu, std::defer_lock);
  group_lora_rows(batch, b0, b1, lora_lock);
  const int32_t* d = meta_dev.get();
  const int32_t *d_tokens = d, *d_pos = d + R, *d_nctx = d + 2 * R, *d_rowidx = d + 3 * R, *d_rowseq = d + 4 * R,
                *d_logit = d + 5 * R, *d_tables = d + 6 * R;

  const float eps = static_cast<float>(cfg.rms_eps);
  const int64_t layer_floats = int64_t(num_blocks) * bs * kv_width;
  cuda::PagedAttnArgs a{};  // the sequence-level fields; the attention variant fills the rest
  a.width = kv_width;
  a.scale = static_cast<float>(cfg.softmax_scale());
  a.n_ctx = d_nctx;
  a.row_seq = d_rowseq;
  a.tables = d_tables;
  a.max_blocks = width_blocks;
  a.block_size = bs;
  a.T = T;
  // Everything between the metadata upload and the logits download: fixed device pointers, shape
  // (T, nl, width_blocks) in kernel arguments, so it can be captured once per shape as a graph.
  auto body = [&]() {
    cuda::embed_rows(embed.w.get(), H, d_tokens, T, x, H, stream);
    for (int l = 0; l < cfg.num_layers; ++l) {
      Layer& L = layers[static_cast<size_t>(l)];
      a.cache = kv.get() + int64_t(l) * layer_floats;
      cuda::rmsnorm(x, H, L.in_norm.get(), T, H, eps, h, H, stream);
      if (cfg.is_mla()) mla_attention(L, l, T, d_pos, d_rowidx, a);
      else dense_attention(L, l, T, d_pos, d_rowidx, a);
      cuda::rmsnorm(x, H, L.post_norm.get(), T, H, eps, h, H, stream);
      if (L.moe) moe_forward(*L.moe_block, T);
      else mlp_forward(L.mlp, h, T, cfg.intermediate_size, g, u, x, true, chunk_groups);  // x += mlp(h)
    }
    if (nl > 0) {
      cuda::gather_rows(x, H, d_logit, nl, H, logit_x, H, stream);
      cuda::rmsnorm(logit_x, H, final_norm.get(), nl, H, eps, logit_x, H, stream);
      const DevMatrix& head = lm_head.rows ? lm_head : embed;
      cuda::matmul_bf16(head.w.get(), V, H, logit_x, H, nl, logits, V, nullptr, false, stream);
    }
  };
  // Graphs for decode-shaped steps only (every row wants logits), so prefill sizes are not cached.
  if (copts.cuda_graphs && !has_moe && chunk_groups.empty() && nl == T && T <= kGraphMaxRows) {
    const auto key = std::make_tuple(T, nl, width_blocks);
    auto it = graphs.find(key);
    if (it == graphs.end()) {
      CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeRelaxed));
      try {
        body();
      } catch (...) {
        cudaGraph_t broken = nullptr;
        cudaStreamEndCapture(stream, &broken);
        if (broken) cudaGraphDestroy(broken);
        throw;
      }
      cudaGraph_t graph = nullptr;
      CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
      cudaGraphExec_t exec = nullptr;
      const cudaError_t inst = cudaGraphInstantiate(&exec, graph, 0);
      cudaGraphDestroy(graph);
      CUDA_CHECK(inst);
      it = graphs.emplace(key, exec).first;
    }
    CUDA_CHECK(cudaGraphLaunch(it->second, stream));
  } else {
    body();
  }
  if (nl > 0) {
    CUDA_CHECK(cudaMemcpyAsync(logits_host.get(), logits, static_cast<size_t>(nl * V) * sizeof(float),
                               cudaMemcpyDeviceToHost, stream));
  }
  CUDA_CHECK(cudaStreamSynchronize(stream));  // also surfaces kernel execution errors
  if (nl > 0) std::copy(logits_host.get(), logits_host.get() + nl * V, out);
  return nl;
}

}  // namespace dse
