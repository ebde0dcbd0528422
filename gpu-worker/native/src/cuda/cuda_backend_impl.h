// CudaBackend internals, shared by the backend's source files (not for other code): the device-side
// model (bf16 matrices, layers, MoE blocks, LoRA adapters) and CudaBackend::Impl, whose members are
// defined by concern in cuda_backend.cpp (construction, entry points), cuda_backend_weights.cpp (upload),
// cuda_backend_memory.cpp (KV cache, activation arena), cuda_backend_chunk.cpp (one device forward),
// cuda_backend_layers.cpp (attention, MLP, MoE) and cuda_backend_lora.cpp (adapters).
#pragma once
#include <cuda_runtime_api.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "cuda/block_allocator.h"
#include "cuda/cuda_backend.h"
#include "cuda/device_buffer.cuh"
#include "cuda/paged_attention.cuh"
#include "kernels/moe_route.h"
#include "loader/weight_loader.h"
#include "lora/lora_adapter.h"

namespace dse::cuda {

// A bf16 matrix [rows, cols] in device memory.
struct DevMatrix {
  DeviceBuffer<uint16_t> w;  // [rows, cols]
  int64_t rows = 0, cols = 0;
};

DevMatrix upload_matrix(const Weight& h);

template <typename A>
DeviceBuffer<float> upload_vector(const std::vector<float, A>& v) {
  DeviceBuffer<float> d(v.size());
  if (!v.empty()) d.upload(v.data(), v.size());
  return d;
}

DeviceBuffer<float> upload_f32_matrix(const Weight& h);

// SwiGLU feed-forward: down(silu(gate(x)) * up(x)).
struct DevMlp {
  DevMatrix gate, up, down;  // [I, H], [I, H], [H, I]
};

DevMlp load_mlp(const WeightLoader& wl, const std::string& prefix, int64_t H, int64_t I);

size_t mlp_bytes(const DevMlp& m);

// DeepSeekMoE block. The router runs on the host (f32 gate, kernels/moe_route: exactly the CPU
// backend's selection rules, -inf group masking included); experts and the combine run on device.
struct DevMoe {
  Weight gate;                    // [E, H] f32, host
  std::vector<float> score_bias;  // [E] or empty
  RouterParams router;
  std::vector<DevMlp> experts;    // [E]
  DevMlp shared;
  bool has_shared = false;
};

struct Layer {
  DeviceBuffer<float> in_norm, post_norm;  // [H]
  // Dense attention (Llama, Qwen2).
  DevMatrix wq, wk, wv, wo;                // wo also serves MLA: [H, nh * v]
  DeviceBuffer<float> bq, bk, bv;          // [qd], [kvd], [kvd] or empty
  // MLA (DeepSeek V2/V3).
  DevMatrix wq_a, wq_b, wkv_a;             // [q_lora, H], [nh * qk, q_lora], [R + P, H]
  DeviceBuffer<float> q_a_norm, kv_a_norm; // [q_lora], [R]
  DeviceBuffer<float> wkv_b;               // [nh * (nope + v), R] f32 for absorption
  // Feed-forward.
  bool moe = false;
  DevMlp mlp;
  std::unique_ptr<DevMoe> moe_block;
};

// A LoRA adapter on device: per adapted projection A [r, in] and B [out, r] (scaling folded in) as
// bf16, and for MLA's kv_b_proj the merged f32 copy W + B A (absorbed attention reads it per head).
struct DevDelta {
  DevMatrix a, b;
};
struct DevAdapter {
  std::map<const DevMatrix*, DevDelta> deltas;
  std::map<int, DeviceBuffer<float>> kv_b;  // layer -> merged [nh * (nope + v), R]
};

// The rows of one chunk (or one expert's gathered rows) that use one adapter.
struct LoraGroup {
  const DevAdapter* adapter = nullptr;
  const int32_t* rows = nullptr;  // device, n row indices
  int64_t n = 0;
};

}  // namespace dse::cuda

namespace dse {

using cuda::DevAdapter;
using cuda::DevDelta;
using cuda::DeviceArena;
using cuda::DeviceBuffer;
using cuda::DevMatrix;
using cuda::DevMlp;
using cuda::DevMoe;
using cuda::Layer;
using cuda::LoraGroup;
using cuda::PinnedBuffer;
using cuda::load_mlp;
using cuda::mlp_bytes;
using cuda::upload_f32_matrix;
using cuda::upload_matrix;
using cuda::upload_vector;

struct CudaBackend::Impl {
  ~Impl();

  ModelConfig cfg;
  CudaBackendOptions copts;
  int slots = 0;
  size_t weight_bytes = 0;
  cudaStream_t stream = nullptr;

  // Weights.
  DevMatrix embed, lm_head;        // lm_head empty when tied
  DeviceBuffer<float> final_norm;  // [H]
  std::vector<Layer> layers;
  DeviceBuffer<float> inv_freq;    // [rope dim / 2]
  float rope_attention_factor = 1.f;
  int rope_dim = 0;

  // Paged KV cache: per layer [num_blocks * block_size, width] fp32, one allocation. Dense rows are
  // [K heads | V heads]; MLA rows are [normalised latent R | roped k_pe P].
  int64_t kv_width = 0;
  int32_t num_blocks = 0;
  int32_t max_blocks_per_seq = 0;
  DeviceBuffer<float> kv;  // [layers, num_blocks * block_size, width]
  std::unique_ptr<BlockAllocator> alloc;
  std::unique_ptr<PageTable> pages;

  // Per-chunk metadata, staged in pinned memory and copied in one transfer:
  // [tokens R | pos R | n_ctx R | row_index R | row_seq R | logit_rows R | tables slots * max_blocks]
  PinnedBuffer<int32_t> meta_host;
  DeviceBuffer<int32_t> meta_dev;
  PinnedBuffer<float> logits_host;  // [max_rows, vocab]
  std::vector<int> slot_to_seq;     // [slots] chunk-local sequence index or -1

  // MoE routing exchange (host router): h rows down, sorted (token, k) pairs and weights up.
  int64_t moe_k = 0, moe_inter = 0;
  PinnedBuffer<float> moe_h_host;       // [max_rows, H]
  std::vector<float> moe_logits;        // [max_rows, E]
  std::vector<float> moe_scratch;       // [2E + n_group]
  std::vector<int> moe_idx;             // [max_rows * K]
  std::vector<float> moe_w;             // [max_rows * K] routing weights, token order
  std::vector<int64_t> moe_count;       // [E]
  PinnedBuffer<int32_t> moe_meta_host;  // [perm R*K | slot R*K]
  PinnedBuffer<float> moe_w_host;       // [R*K]
  DeviceBuffer<int32_t> moe_meta_dev;
  DeviceBuffer<float> moe_w_dev;

  // CUDA graphs (copts.cuda_graphs): one instantiated graph per decode-step shape
  // (rows, logits rows, block-table stride); only for models without MoE (the host router syncs).
  static constexpr int64_t kGraphMaxRows = 256;
  std::map<std::tuple<int64_t, int64_t, int32_t>, cudaGraphExec_t> graphs;
  bool has_moe = false;

  // LoRA: host shape stand-ins of every adaptable projection (load_lora_adapter checks names and
  // shapes against them), the device matrix each stands for, loaded adapters, and scratch for a
  // group's gathered rows, A x and B A x (allocated with the first adapter).
  std::deque<Weight> lora_shapes;
  LoraTargets lora_targets;
  std::map<const Weight*, const DevMatrix*> lora_sites;
  std::map<const Weight*, int> lora_kv_b;  // kv_b_proj stand-in -> layer
  mutable std::mutex lora_mu;             // adapters load beside a running forward
  std::map<const LoraAdapter*, std::unique_ptr<DevAdapter>> adapters;
  int64_t lora_width = 0, lora_rank = 0;  // widest projection side, largest rank loaded
  DeviceBuffer<float> lora_x, lora_u, lora_v;  // [lora_rows, lora_width], [lora_rows, rank], [lora_rows, width]
  DeviceBuffer<int32_t> lora_rows_dev;     // [max_rows * max(1, K)] row lists of the step's groups
  PinnedBuffer<int32_t> lora_rows_host;
  std::vector<LoraGroup> chunk_groups;

  // LoRA sites and products (cuda_backend_lora.cpp).
  void add_lora_site(const std::string& module, const DevMatrix& m);
  void add_mlp_sites(const std::string& module, const DevMlp& m);
  // After load: layers_ no longer moves, so the device matrices have their final addresses.
  void index_lora_sites();
  int64_t lora_scratch_rows() const { return copts.max_rows * std::max<int64_t>(1, moe_k > 0 ? moe_k : cfg.experts_per_token); }

  // out rows += B (A in) for each group whose adapter adapts m.
  void lora_apply(const std::vector<LoraGroup>& groups, const DevMatrix& m, const float* in, int64_t ldin, float* out,
                  int64_t ldout);

  // Absorbed MLA for a group whose adapter merged kv_b_proj: its rows' absorbed queries, then (after
  // attention) their values, recomputed with the merged matrix and written over the base ones.
  void lora_absorb_query(int l, int64_t nh, const float* q_rows, float* q_abs);
  void lora_expand_value(int l, int64_t nh, const float* lat_rows, float* out);

  // Activations, views into one arena, sized for max_rows.
  std::unique_ptr<DeviceArena> arena;
  float *x = nullptr, *h = nullptr, *q = nullptr, *k = nullptr, *v = nullptr, *att = nullptr;
  float *g = nullptr, *u = nullptr, *logit_x = nullptr, *logits = nullptr;
  float *qa = nullptr, *kva = nullptr, *qabs = nullptr, *lat = nullptr;        // MLA
  float *mg = nullptr, *mgate = nullptr, *mup = nullptr, *mout = nullptr;     // MoE experts

  // Weights (cuda_backend_weights.cpp).
  void load(const TensorSource& src, const LoadOptions& lo);
  void load_dense_attention(const WeightLoader& wl, const std::string& p, Layer& L);
  void load_mla(const WeightLoader& wl, const std::string& p, Layer& L);
  void load_moe(const WeightLoader& wl, const std::string& prefix, Layer& L);
  bool any_moe() const;

  // KV cache and activation arena (cuda_backend_memory.cpp).
  void alloc_kv();

  // Widths of the activation buffers (floats per row).
  struct Widths {
    int64_t q, k, att, inter, qa, kva, qabs, lat, moe_rows, moe_inter;
  };
  Widths widths() const;

  int64_t activation_floats() const;
  int64_t activation_bytes() const { return activation_floats() * 4 + 32 * 256; }
  void alloc_activations();

  // Layer blocks (cuda_backend_layers.cpp).
  void mlp_forward(const DevMlp& m, const float* in, int64_t T, int64_t I, float* gbuf, float* ubuf, float* out,
                   bool accumulate, const std::vector<LoraGroup>& lora);

  // x += MoE(h) for T rows: shared experts on device, routing on the host, experts over their
  // gathered rows (one launch set per expert with tokens), deterministic combine.
  void moe_forward(DevMoe& m, int64_t T);

  void dense_attention(Layer& L, int l, int64_t T, const int32_t* d_pos, const int32_t* d_rowidx,
                       cuda::PagedAttnArgs a);
  void mla_attention(Layer& L, int l, int64_t T, const int32_t* d_pos, const int32_t* d_rowidx,
                     cuda::PagedAttnArgs a);

  // The chunk's rows per adapter (chunk_groups, row lists uploaded), and each row's adapter for the
  // MoE experts' groups. Holds the adapter table's lock for the chunk when any row has an adapter.
  std::vector<const DevAdapter*> row_adapter;                           // [T] chunk row -> adapter or null
  std::vector<std::pair<const DevAdapter*, int64_t>> chunk_adapter_rows;  // distinct adapters, row count
  void group_lora_rows(const std::vector<BatchToken>& batch, size_t b0, size_t b1, std::unique_lock<std::mutex>& lk);

  // One device forward over batch rows [b0, b1) (at most max_rows); returns logits rows written
  // (cuda_backend_chunk.cpp).
  int64_t run_chunk(const std::vector<BatchToken>& batch, size_t b0, size_t b1, float* out);
};

}  // namespace dse
