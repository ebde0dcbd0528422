// CudaBackend: device memory sized once at construction: the paged KV cache (as many blocks as the
// budget allows, BlockAllocator + PageTable), the activation arena for max_rows rows, and the pinned
// staging of chunk metadata, logits and the host MoE router's exchange.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <memory>

#include "common/error.h"
#include "cuda/cuda_backend_impl.h"
#include "cuda/cuda_check.cuh"

namespace dse {

void CudaBackend::Impl::alloc_kv() {
  kv_width = cfg.is_mla() ? int64_t(cfg.kv_lora_rank) + cfg.qk_rope_dim : 2LL * cfg.num_kv_heads * cfg.head_dim;
  const int32_t bs = copts.block_size;
  max_blocks_per_seq = static_cast<int32_t>((int64_t(cfg.max_position) + bs - 1) / bs);
  const int64_t block_bytes = int64_t(bs) * kv_width * 4 * cfg.num_layers;
  int64_t want = copts.kv_bytes;
  if (want <= 0) {
    size_t free_b = 0, total_b = 0;
    CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
    const int64_t full = int64_t(slots) * max_blocks_per_seq * block_bytes;
    // Leave room for the activation arena and staging (allocated after this).
    want = std::min<int64_t>(full, static_cast<int64_t>(free_b * 0.85) - activation_bytes());
  }
  num_blocks = static_cast<int32_t>(std::min<int64_t>(std::max<int64_t>(0, want / block_bytes), 0x7fffffff / bs));
  if (num_blocks == 0) fail(ErrorKind::kOutOfMemory, "no device memory left for the KV cache after the weights");
  kv = DeviceBuffer<float>(static_cast<size_t>(num_blocks) * bs * kv_width * cfg.num_layers);
  alloc = std::make_unique<BlockAllocator>(num_blocks);
  pages = std::make_unique<PageTable>(*alloc, slots, bs);
}

CudaBackend::Impl::Widths CudaBackend::Impl::widths() const {
  Widths w{};
  const int64_t nh = cfg.num_heads;
  if (cfg.is_mla()) {
    const int64_t R = cfg.kv_lora_rank, P = cfg.qk_rope_dim;
    w.q = nh * cfg.qk_head_dim();
    w.k = 0;
    w.att = nh * cfg.v_head_dim;
    w.qa = std::max(cfg.q_lora_rank, 0);
    w.kva = R + P;
    w.qabs = nh * (R + P);
    w.lat = nh * R;
  } else {
    w.q = nh * cfg.head_dim;
    w.k = int64_t(cfg.num_kv_heads) * cfg.head_dim;
    w.att = w.q;
  }
  w.inter = cfg.intermediate_size;
  if (cfg.n_routed_experts > 0) {
    w.inter = std::max<int64_t>(w.inter, int64_t(cfg.moe_intermediate_size) * cfg.n_shared_experts);
    w.moe_rows = cfg.experts_per_token;
    w.moe_inter = cfg.moe_intermediate_size;
  }
  return w;
}

int64_t CudaBackend::Impl::activation_floats() const {
  const Widths w = widths();
  const int64_t H = cfg.hidden_size;
  const int64_t per_row = 3 * H + w.q + 2 * w.k + w.att + 2 * w.inter + cfg.vocab_size + w.qa + w.kva + w.qabs +
                          w.lat + w.moe_rows * (2 * H + 2 * w.moe_inter);
  return copts.max_rows * per_row;
}

void CudaBackend::Impl::alloc_activations() {
  const int64_t R = copts.max_rows, H = cfg.hidden_size;
  const Widths w = widths();
  arena = std::make_unique<DeviceArena>(static_cast<size_t>(activation_bytes()));
  x = arena->take<float>(R * H, "x");             // [R, H] residual stream
  h = arena->take<float>(R * H, "h");             // [R, H] normed input
  q = arena->take<float>(R * w.q, "q");           // [R, nh * hd] or [R, nh, nope + rope]
  k = arena->take<float>(R * w.k, "k");           // [R, nkv * hd] (dense)
  v = arena->take<float>(R * w.k, "v");           // [R, nkv * hd] (dense)
  att = arena->take<float>(R * w.att, "att");     // [R, nh * hd] or [R, nh * v]
  g = arena->take<float>(R * w.inter, "gate");    // [R, I] (dense or shared experts)
  u = arena->take<float>(R * w.inter, "up");      // [R, I]
  logit_x = arena->take<float>(R * H, "logit_x"); // [R, H] normed rows that want logits
  logits = arena->take<float>(R * int64_t(cfg.vocab_size), "logits");  // [R, vocab]
  qa = arena->take<float>(R * w.qa, "qa");        // [R, q_lora]
  kva = arena->take<float>(R * w.kva, "kva");     // [R, R_lat + P]
  qabs = arena->take<float>(R * w.qabs, "qabs");  // [R, nh, R_lat + P] absorbed queries
  lat = arena->take<float>(R * w.lat, "lat");     // [R, nh, R_lat] attention over the latent
  mg = arena->take<float>(R * w.moe_rows * H, "moe_in");              // [R*K, H] expert-sorted rows
  mgate = arena->take<float>(R * w.moe_rows * w.moe_inter, "moe_gate");  // [R*K, I_moe]
  mup = arena->take<float>(R * w.moe_rows * w.moe_inter, "moe_up");      // [R*K, I_moe]
  mout = arena->take<float>(R * w.moe_rows * H, "moe_out");           // [R*K, H]
  const size_t meta = static_cast<size_t>(6 * R + int64_t(slots) * max_blocks_per_seq);
  meta_host = PinnedBuffer<int32_t>(meta);
  meta_dev = DeviceBuffer<int32_t>(meta);
  logits_host = PinnedBuffer<float>(static_cast<size_t>(R * cfg.vocab_size));
  slot_to_seq.assign(static_cast<size_t>(slots), -1);
  if (any_moe()) {
    moe_k = cfg.experts_per_token;
    moe_inter = cfg.moe_intermediate_size;
    const int64_t E = cfg.n_routed_experts;
    moe_h_host = PinnedBuffer<float>(static_cast<size_t>(R * H));
    moe_logits.assign(static_cast<size_t>(R * E), 0.f);
    moe_scratch.assign(static_cast<size_t>(2 * E + cfg.n_group), 0.f);
    moe_idx.assign(static_cast<size_t>(R * moe_k), 0);
    moe_w.assign(static_cast<size_t>(R * moe_k), 0.f);
    moe_count.assign(static_cast<size_t>(E), 0);
    moe_meta_host = PinnedBuffer<int32_t>(static_cast<size_t>(2 * R * moe_k));
    moe_w_host = PinnedBuffer<float>(static_cast<size_t>(R * moe_k));
    moe_meta_dev = DeviceBuffer<int32_t>(static_cast<size_t>(2 * R * moe_k));
    moe_w_dev = DeviceBuffer<float>(static_cast<size_t>(R * moe_k));
  }
}

}  // namespace dse
