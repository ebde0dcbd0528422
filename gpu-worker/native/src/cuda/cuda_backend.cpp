#include "cuda/cuda_backend.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <tuple>
#include <new>
#include <string>

#include "common/dtype.h"
#include "common/error.h"
#include "cuda/cuda_check.cuh"
#include "cuda/device_buffer.cuh"
#include "cuda/embed.cuh"
#include "cuda/gather_rows.cuh"
#include "cuda/matmul.cuh"
#include "cuda/mla_absorb.cuh"
#include "cuda/moe_combine.cuh"
#include "cuda/paged_attention.cuh"
#include "cuda/paged_kv.cuh"
#include "cuda/rmsnorm.cuh"
#include "cuda/rope.cuh"
#include "cuda/scatter_rows.cuh"
#include "cuda/silu_mul.cuh"
#include "kernels/matmul.h"
#include "kernels/moe_route.h"
#include "kernels/rope.h"
#include "loader/weight_loader.h"
#include "lora/lora_adapter.h"

namespace dse {

using cuda::DeviceArena;
using cuda::DeviceBuffer;
using cuda::PinnedBuffer;

bool cuda_device_available() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver / no device" status
    return false;
  }
  return n > 0;
}

namespace {

// A bf16 matrix [rows, cols] in device memory.
struct DevMatrix {
  DeviceBuffer<uint16_t> w;  // [rows, cols]
  int64_t rows = 0, cols = 0;
};

DevMatrix upload_matrix(const Weight& h) {
  DevMatrix m;
  m.rows = h.rows;
  m.cols = h.cols;
  m.w = DeviceBuffer<uint16_t>(static_cast<size_t>(h.rows * h.cols));
  if (h.format == WFormat::kBF16) {
    m.w.upload(h.bf16.data(), h.bf16.size());
  } else if (h.format == WFormat::kF32) {
    std::vector<uint16_t> tmp(h.f32.size());
    for (size_t i = 0; i < tmp.size(); ++i) tmp[i] = f32_to_bf16(h.f32[i]);
    m.w.upload(tmp.data(), tmp.size());
  } else {
    fail(ErrorKind::kUnsupported, "int8 weights are not supported by the CUDA backend (bf16 only)");
  }
  return m;
}

template <typename A>
DeviceBuffer<float> upload_vector(const std::vector<float, A>& v) {
  DeviceBuffer<float> d(v.size());
  if (!v.empty()) d.upload(v.data(), v.size());
  return d;
}

DeviceBuffer<float> upload_f32_matrix(const Weight& h) {
  if (h.format != WFormat::kF32) fail(ErrorKind::kInternal, "expected an f32 matrix");
  return upload_vector(h.f32);
}

// SwiGLU feed-forward: down(silu(gate(x)) * up(x)).
struct DevMlp {
  DevMatrix gate, up, down;  // [I, H], [I, H], [H, I]
};

DevMlp load_mlp(const WeightLoader& wl, const std::string& prefix, int64_t H, int64_t I) {
  DevMlp m;
  m.gate = upload_matrix(wl.matrix(prefix + "gate_proj.weight", I, H, false));
  m.up = upload_matrix(wl.matrix(prefix + "up_proj.weight", I, H, false));
  m.down = upload_matrix(wl.matrix(prefix + "down_proj.weight", H, I, false));
  return m;
}

size_t mlp_bytes(const DevMlp& m) { return m.gate.w.bytes() + m.up.w.bytes() + m.down.w.bytes(); }

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

int parse_device(const std::string& spec) {
  if (spec == "cuda") return 0;
  const std::string digits = spec.substr(5);
  if (spec.compare(0, 5, "cuda:") != 0 || digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos)
    fail(ErrorKind::kUnsupported, "bad CUDA backend spec '" + spec + "' (expected \"cuda\" or \"cuda:N\")");
  return std::stoi(digits);
}

}  // namespace

struct CudaBackend::Impl {
  ~Impl() {
    if (stream) {  // also runs when the constructor throws after creating the stream
      cudaSetDevice(copts.device);
      cudaStreamSynchronize(stream);
      for (auto& kv_graph : graphs) cudaGraphExecDestroy(kv_graph.second);
      cudaStreamDestroy(stream);
    }
  }

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

  void add_lora_site(const std::string& module, const DevMatrix& m) {
    Weight& w = lora_shapes.emplace_back();
    w.rows = m.rows;
    w.cols = m.cols;
    lora_targets[module] = {&w};
    lora_sites[&w] = &m;
    lora_width = std::max({lora_width, m.rows, m.cols});
  }
  void add_mlp_sites(const std::string& module, const DevMlp& m) {
    add_lora_site(module + ".gate_proj", m.gate);
    add_lora_site(module + ".up_proj", m.up);
    add_lora_site(module + ".down_proj", m.down);
  }
  // After load: layers_ no longer moves, so the device matrices have their final addresses.
  void index_lora_sites() {
    const int64_t nh = cfg.num_heads;
    for (int l = 0; l < cfg.num_layers; ++l) {
      const Layer& L = layers[static_cast<size_t>(l)];
      const std::string p = "model.layers." + std::to_string(l) + ".";
      if (cfg.is_mla()) {
        if (cfg.q_lora_rank > 0) {
          add_lora_site(p + "self_attn.q_a_proj", L.wq_a);
          add_lora_site(p + "self_attn.q_b_proj", L.wq_b);
        } else {
          add_lora_site(p + "self_attn.q_proj", L.wq);
        }
        add_lora_site(p + "self_attn.kv_a_proj_with_mqa", L.wkv_a);
        Weight& kvb = lora_shapes.emplace_back();
        kvb.rows = nh * (cfg.qk_nope_dim + cfg.v_head_dim);
        kvb.cols = cfg.kv_lora_rank;
        lora_targets[p + "self_attn.kv_b_proj"] = {&kvb};  // merged on device at load, not by the host loader
        lora_kv_b[&kvb] = l;
      } else {
        add_lora_site(p + "self_attn.q_proj", L.wq);
        add_lora_site(p + "self_attn.k_proj", L.wk);
        add_lora_site(p + "self_attn.v_proj", L.wv);
      }
      add_lora_site(p + "self_attn.o_proj", L.wo);
      if (!L.moe) {
        add_mlp_sites(p + "mlp", L.mlp);
        continue;
      }
      for (size_t e = 0; e < L.moe_block->experts.size(); ++e)
        add_mlp_sites(p + "mlp.experts." + std::to_string(e), L.moe_block->experts[e]);
      if (L.moe_block->has_shared) add_mlp_sites(p + "mlp.shared_experts", L.moe_block->shared);
    }
    if (cfg.is_mla())  // a group's absorbed queries and latent outputs pass through the same scratch
      lora_width = std::max({lora_width, nh * cfg.qk_head_dim(), nh * (int64_t(cfg.kv_lora_rank) + cfg.qk_rope_dim),
                             nh * int64_t(cfg.v_head_dim)});
  }
  int64_t lora_scratch_rows() const { return copts.max_rows * std::max<int64_t>(1, moe_k > 0 ? moe_k : cfg.experts_per_token); }

  // out rows += B (A in) for each group whose adapter adapts m.
  void lora_apply(const std::vector<LoraGroup>& groups, const DevMatrix& m, const float* in, int64_t ldin, float* out,
                  int64_t ldout) {
    for (const LoraGroup& g : groups) {
      auto it = g.adapter->deltas.find(&m);
      if (it == g.adapter->deltas.end()) continue;
      const DevDelta& d = it->second;
      const int64_t r = d.a.rows;
      cuda::gather_rows(in, ldin, g.rows, g.n, m.cols, lora_x.get(), m.cols, stream);
      cuda::matmul_bf16(d.a.w.get(), r, m.cols, lora_x.get(), m.cols, g.n, lora_u.get(), r, nullptr, false, stream);
      cuda::matmul_bf16(d.b.w.get(), m.rows, r, lora_u.get(), r, g.n, lora_v.get(), m.rows, nullptr, false, stream);
      cuda::scatter_rows(lora_v.get(), m.rows, g.rows, g.n, m.rows, out, ldout, true, stream);
    }
  }

  // Absorbed MLA for a group whose adapter merged kv_b_proj: its rows' absorbed queries, then (after
  // attention) their values, recomputed with the merged matrix and written over the base ones.
  void lora_absorb_query(int l, int64_t nh, const float* q_rows, float* q_abs) {
    const int64_t qk = cfg.qk_head_dim(), width = int64_t(cfg.kv_lora_rank) + cfg.qk_rope_dim;
    for (const LoraGroup& g : chunk_groups) {
      auto it = g.adapter->kv_b.find(l);
      if (it == g.adapter->kv_b.end()) continue;
      cuda::gather_rows(q_rows, nh * qk, g.rows, g.n, nh * qk, lora_x.get(), nh * qk, stream);
      cuda::mla_absorb_query(it->second.get(), g.n, nh, cfg.qk_nope_dim, cfg.qk_rope_dim, cfg.v_head_dim,
                             cfg.kv_lora_rank, lora_x.get(), lora_v.get(), stream);
      cuda::scatter_rows(lora_v.get(), nh * width, g.rows, g.n, nh * width, q_abs, nh * width, false, stream);
    }
  }
  void lora_expand_value(int l, int64_t nh, const float* lat_rows, float* out) {
    const int64_t R = cfg.kv_lora_rank, vd = cfg.v_head_dim;
    for (const LoraGroup& g : chunk_groups) {
      auto it = g.adapter->kv_b.find(l);
      if (it == g.adapter->kv_b.end()) continue;
      cuda::gather_rows(lat_rows, nh * R, g.rows, g.n, nh * R, lora_x.get(), nh * R, stream);
      cuda::mla_expand_value(it->second.get(), g.n, nh, cfg.qk_nope_dim, vd, R, lora_x.get(), lora_v.get(), stream);
      cuda::scatter_rows(lora_v.get(), nh * vd, g.rows, g.n, nh * vd, out, nh * vd, false, stream);
    }
  }

  // Activations, views into one arena, sized for max_rows.
  std::unique_ptr<DeviceArena> arena;
  float *x = nullptr, *h = nullptr, *q = nullptr, *k = nullptr, *v = nullptr, *att = nullptr;
  float *g = nullptr, *u = nullptr, *logit_x = nullptr, *logits = nullptr;
  float *qa = nullptr, *kva = nullptr, *qabs = nullptr, *lat = nullptr;        // MLA
  float *mg = nullptr, *mgate = nullptr, *mup = nullptr, *mout = nullptr;     // MoE experts

  void load(const TensorSource& src, const LoadOptions& lo) {
    if (lo.int8) fail(ErrorKind::kUnsupported, "int8 is a CPU-backend option; the CUDA backend runs bf16");
    WeightLoader wl(src, lo);
    const int64_t H = cfg.hidden_size;
    embed = upload_matrix(wl.matrix("model.embed_tokens.weight", cfg.vocab_size, H, false));
    final_norm = upload_vector(wl.vector("model.norm.weight", H));
    if (!(cfg.tie_embeddings && !wl.has("lm_head.weight")))
      lm_head = upload_matrix(wl.matrix("lm_head.weight", cfg.vocab_size, H, false));
    weight_bytes = embed.w.bytes() + lm_head.w.bytes() + final_norm.bytes();
    for (int l = 0; l < cfg.num_layers; ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      Layer L;
      L.in_norm = upload_vector(wl.vector(p + "input_layernorm.weight", H));
      L.post_norm = upload_vector(wl.vector(p + "post_attention_layernorm.weight", H));
      weight_bytes += L.in_norm.bytes() + L.post_norm.bytes();
      if (cfg.is_mla()) load_mla(wl, p, L);
      else load_dense_attention(wl, p, L);
      L.moe = cfg.is_moe_layer(l);
      if (L.moe) {
        load_moe(wl, p + "mlp.", L);
      } else {
        L.mlp = load_mlp(wl, p + "mlp.", H, cfg.intermediate_size);
        weight_bytes += mlp_bytes(L.mlp);
      }
      layers.push_back(std::move(L));
    }
    rope_dim = cfg.is_mla() ? cfg.qk_rope_dim : cfg.head_dim;
    RopeTable rt = make_rope_table(cfg.rope, rope_dim, cfg.max_position);
    inv_freq = upload_vector(rt.inv_freq);
    rope_attention_factor = rt.attention_factor;
  }

  void load_dense_attention(const WeightLoader& wl, const std::string& p, Layer& L) {
    const int64_t H = cfg.hidden_size, qd = int64_t(cfg.num_heads) * cfg.head_dim,
                  kvd = int64_t(cfg.num_kv_heads) * cfg.head_dim;
    L.wq = upload_matrix(wl.matrix(p + "self_attn.q_proj.weight", qd, H, false));
    L.wk = upload_matrix(wl.matrix(p + "self_attn.k_proj.weight", kvd, H, false));
    L.wv = upload_matrix(wl.matrix(p + "self_attn.v_proj.weight", kvd, H, false));
    L.wo = upload_matrix(wl.matrix(p + "self_attn.o_proj.weight", H, qd, false));
    if (cfg.attention_bias) {
      L.bq = upload_vector(wl.vector(p + "self_attn.q_proj.bias", qd));
      L.bk = upload_vector(wl.vector(p + "self_attn.k_proj.bias", kvd));
      L.bv = upload_vector(wl.vector(p + "self_attn.v_proj.bias", kvd));
    }
    weight_bytes += L.wq.w.bytes() + L.wk.w.bytes() + L.wv.w.bytes() + L.wo.w.bytes() + L.bq.bytes() +
                    L.bk.bytes() + L.bv.bytes();
  }

  void load_mla(const WeightLoader& wl, const std::string& p, Layer& L) {
    const int64_t H = cfg.hidden_size, nh = cfg.num_heads, qk = cfg.qk_head_dim();
    const int64_t R = cfg.kv_lora_rank, P = cfg.qk_rope_dim;
    if (cfg.q_lora_rank > 0) {
      L.wq_a = upload_matrix(wl.matrix(p + "self_attn.q_a_proj.weight", cfg.q_lora_rank, H, false));
      L.q_a_norm = upload_vector(wl.vector(p + "self_attn.q_a_layernorm.weight", cfg.q_lora_rank));
      L.wq_b = upload_matrix(wl.matrix(p + "self_attn.q_b_proj.weight", nh * qk, cfg.q_lora_rank, false));
    } else {
      L.wq = upload_matrix(wl.matrix(p + "self_attn.q_proj.weight", nh * qk, H, false));
    }
    L.wkv_a = upload_matrix(wl.matrix(p + "self_attn.kv_a_proj_with_mqa.weight", R + P, H, false));
    L.kv_a_norm = upload_vector(wl.vector(p + "self_attn.kv_a_layernorm.weight", R));
    L.wkv_b = upload_f32_matrix(
        wl.matrix_f32(p + "self_attn.kv_b_proj.weight", nh * (cfg.qk_nope_dim + cfg.v_head_dim), R));
    L.wo = upload_matrix(wl.matrix(p + "self_attn.o_proj.weight", H, nh * cfg.v_head_dim, false));
    weight_bytes += L.wq_a.w.bytes() + L.q_a_norm.bytes() + L.wq_b.w.bytes() + L.wq.w.bytes() + L.wkv_a.w.bytes() +
                    L.kv_a_norm.bytes() + L.wkv_b.bytes() + L.wo.w.bytes();
  }

  void load_moe(const WeightLoader& wl, const std::string& prefix, Layer& L) {
    auto m = std::make_unique<DevMoe>();
    const int64_t H = cfg.hidden_size, E = cfg.n_routed_experts;
    m->gate = wl.matrix_f32(prefix + "gate.weight", E, H);
    if (cfg.arch == Arch::kDeepseekV3 || wl.has(prefix + "gate.e_score_correction_bias"))
      m->score_bias = wl.vector(prefix + "gate.e_score_correction_bias", E);
    for (int64_t e = 0; e < E; ++e) {
      m->experts.push_back(load_mlp(wl, prefix + "experts." + std::to_string(e) + ".", H, cfg.moe_intermediate_size));
      weight_bytes += mlp_bytes(m->experts.back());
    }
    if (cfg.n_shared_experts > 0) {
      m->shared = load_mlp(wl, prefix + "shared_experts.", H,
                           static_cast<int64_t>(cfg.moe_intermediate_size) * cfg.n_shared_experts);
      m->has_shared = true;
      weight_bytes += mlp_bytes(m->shared);
    }
    weight_bytes += m->gate.bytes() + m->score_bias.size() * 4;
    m->router.n_experts = static_cast<int>(E);
    m->router.top_k = cfg.experts_per_token;
    m->router.n_group = cfg.n_group;
    m->router.topk_group = cfg.topk_group;
    m->router.sigmoid = cfg.scoring_func == "sigmoid";
    m->router.method = cfg.topk_method;
    m->router.norm_topk_prob = cfg.norm_topk_prob;
    m->router.routed_scaling_factor = static_cast<float>(cfg.routed_scaling_factor);
    L.moe_block = std::move(m);
  }

  bool any_moe() const {
    for (const auto& L : layers)
      if (L.moe) return true;
    return false;
  }

  void alloc_kv() {
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

  // Widths of the activation buffers (floats per row).
  struct Widths {
    int64_t q, k, att, inter, qa, kva, qabs, lat, moe_rows, moe_inter;
  };
  Widths widths() const {
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

  int64_t activation_floats() const {
    const Widths w = widths();
    const int64_t H = cfg.hidden_size;
    const int64_t per_row = 3 * H + w.q + 2 * w.k + w.att + 2 * w.inter + cfg.vocab_size + w.qa + w.kva + w.qabs +
                            w.lat + w.moe_rows * (2 * H + 2 * w.moe_inter);
    return copts.max_rows * per_row;
  }
  int64_t activation_bytes() const { return activation_floats() * 4 + 32 * 256; }

  void alloc_activations() {
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

  void mlp_forward(const DevMlp& m, const float* in, int64_t T, int64_t I, float* gbuf, float* ubuf, float* out,
                   bool accumulate, const std::vector<LoraGroup>& lora) {
    const int64_t H = cfg.hidden_size;
    cuda::matmul_bf16(m.gate.w.get(), I, H, in, H, T, gbuf, I, nullptr, false, stream);
    lora_apply(lora, m.gate, in, H, gbuf, I);
    cuda::matmul_bf16(m.up.w.get(), I, H, in, H, T, ubuf, I, nullptr, false, stream);
    lora_apply(lora, m.up, in, H, ubuf, I);
    cuda::silu_mul(gbuf, I, ubuf, I, T, I, gbuf, I, stream);
    cuda::matmul_bf16(m.down.w.get(), H, I, gbuf, I, T, out, H, nullptr, accumulate, stream);
    lora_apply(lora, m.down, gbuf, I, out, H);
  }

  // x += MoE(h) for T rows: shared experts on device, routing on the host, experts over their
  // gathered rows (one launch set per expert with tokens), deterministic combine.
  void moe_forward(DevMoe& m, int64_t T) {
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

  void dense_attention(Layer& L, int l, int64_t T, const int32_t* d_pos, const int32_t* d_rowidx,
                       cuda::PagedAttnArgs a) {
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

  void mla_attention(Layer& L, int l, int64_t T, const int32_t* d_pos, const int32_t* d_rowidx,
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

  // The chunk's rows per adapter (chunk_groups, row lists uploaded), and each row's adapter for the
  // MoE experts' groups. Holds the adapter table's lock for the chunk when any row has an adapter.
  std::vector<const DevAdapter*> row_adapter;                           // [T] chunk row -> adapter or null
  std::vector<std::pair<const DevAdapter*, int64_t>> chunk_adapter_rows;  // distinct adapters, row count
  void group_lora_rows(const std::vector<BatchToken>& batch, size_t b0, size_t b1, std::unique_lock<std::mutex>& lk) {
    chunk_groups.clear();
    chunk_adapter_rows.clear();
    row_adapter.assign(b1 - b0, nullptr);
    bool any = false;
    for (size_t i = b0; i < b1; ++i) any = any || batch[i].adapter != nullptr;
    if (!any) return;
    lk.lock();
    for (size_t i = b0; i < b1; ++i) {
      if (!batch[i].adapter) continue;
      auto it = adapters.find(batch[i].adapter);
      if (it == adapters.end()) fail(ErrorKind::kInternal, "batch row names a LoRA adapter this backend did not load");
      row_adapter[i - b0] = it->second.get();
    }
    int32_t* rows = lora_rows_host.get();
    int64_t used = 0;
    for (const DevAdapter* a : row_adapter) {
      if (!a || std::any_of(chunk_adapter_rows.begin(), chunk_adapter_rows.end(),
                            [&](const auto& p) { return p.first == a; }))
        continue;
      const int64_t first = used;
      for (size_t t = 0; t < row_adapter.size(); ++t)
        if (row_adapter[t] == a) rows[used++] = static_cast<int32_t>(t);
      chunk_adapter_rows.push_back({a, used - first});
      chunk_groups.push_back({a, nullptr, used - first});
    }
    // The chunk's lists sit after the experts' (moe_forward reuses the front of the buffer per layer).
    const int64_t base = lora_scratch_rows();
    CUDA_CHECK(cudaMemcpyAsync(lora_rows_dev.get() + base, rows, static_cast<size_t>(used) * sizeof(int32_t),
                               cudaMemcpyHostToDevice, stream));
    int64_t off = base;
    for (LoraGroup& g : chunk_groups) {
      g.rows = lora_rows_dev.get() + off;
      off += g.n;
    }
    // Pinned staging is rewritten by moe_forward: wait until this copy has read it.
    CUDA_CHECK(cudaStreamSynchronize(stream));
  }

  // One device forward over batch rows [b0, b1) (at most max_rows); returns logits rows written.
  int64_t run_chunk(const std::vector<BatchToken>& batch, size_t b0, size_t b1, float* out) {
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
};

CudaBackend::CudaBackend(const ModelConfig& cfg, const TensorSource& src, const BackendOptions& opts,
                         const CudaBackendOptions& copts)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.cfg = cfg;
  m.copts = copts;
  m.slots = opts.slots;
  if (const char* e = std::getenv("DSE_CUDA_KV_BYTES")) m.copts.kv_bytes = std::atoll(e);
  if (const char* e = std::getenv("DSE_CUDA_MAX_ROWS")) m.copts.max_rows = std::max(1LL, std::atoll(e));
  if (const char* e = std::getenv("DSE_CUDA_GRAPHS")) m.copts.cuda_graphs = std::string(e) == "1";
  if (!cuda_device_available())
    fail(ErrorKind::kUnsupported, "backend '" + opts.spec + "': no CUDA device available");
  int n = 0;
  CUDA_CHECK(cudaGetDeviceCount(&n));
  if (copts.device < 0 || copts.device >= n)
    fail(ErrorKind::kUnsupported, "backend '" + opts.spec + "': CUDA device " + std::to_string(copts.device) +
                                      " does not exist (" + std::to_string(n) + " found)");
  CUDA_CHECK(cudaSetDevice(copts.device));
  CUDA_CHECK(cudaStreamCreateWithFlags(&m.stream, cudaStreamNonBlocking));
  m.load(src, opts.load);
  m.has_moe = m.any_moe();
  m.index_lora_sites();
  m.alloc_kv();
  m.alloc_activations();
}

CudaBackend::~CudaBackend() = default;

std::string CudaBackend::name() const { return "cuda:" + std::to_string(impl_->copts.device); }
const ModelConfig& CudaBackend::config() const { return impl_->cfg; }
size_t CudaBackend::weight_bytes() const { return impl_->weight_bytes; }
int32_t CudaBackend::kv_blocks_total() const { return impl_->alloc->total(); }
int32_t CudaBackend::kv_blocks_free() const { return impl_->alloc->free_count(); }
Backend::KvUsage CudaBackend::kv_usage() const {
  const int64_t bs = impl_->pages->block_size();
  return {int64_t(impl_->alloc->used_count()) * bs, int64_t(impl_->alloc->total()) * bs};
}

void CudaBackend::open_sequence(int slot, int64_t capacity) {
  if (capacity > impl_->cfg.max_position)
    fail(ErrorKind::kBadRequest, "sequence capacity " + std::to_string(capacity) + " beyond max_position " +
                                     std::to_string(impl_->cfg.max_position));
  impl_->pages->open(slot, capacity);
}

void CudaBackend::close_sequence(int slot) { impl_->pages->close(slot); }

std::shared_ptr<const LoraAdapter> CudaBackend::load_adapter(const std::string& dir) const {
  Impl& m = *impl_;
  // Names and shapes checked on the host against stand-ins; the deltas then go to the device.
  std::shared_ptr<const LoraAdapter> host = load_lora_adapter(dir, m.lora_targets);
  CUDA_CHECK(cudaSetDevice(m.copts.device));
  auto dev = std::make_unique<DevAdapter>();
  const int64_t R = m.cfg.kv_lora_rank;
  for (const auto& [shape, d] : host->deltas) {
    auto kvb = m.lora_kv_b.find(shape);
    if (kvb == m.lora_kv_b.end()) {
      dev->deltas.emplace(m.lora_sites.at(shape), DevDelta{upload_matrix(d.a), upload_matrix(d.b)});
      continue;
    }
    // kv_b_proj: W + B A in f32, from the device copy of W.
    const Layer& L = m.layers[static_cast<size_t>(kvb->second)];
    std::vector<float> w(L.wkv_b.size());
    CUDA_CHECK(cudaMemcpy(w.data(), L.wkv_b.get(), w.size() * sizeof(float), cudaMemcpyDeviceToHost));
    const int64_t r = d.a.rows;
    for (int64_t o = 0; o < shape->rows; ++o)
      for (int64_t k = 0; k < r; ++k)
        for (int64_t i = 0; i < R; ++i) w[o * R + i] += d.b.f32[o * r + k] * d.a.f32[k * R + i];
    dev->kv_b.emplace(kvb->second, upload_vector(w));
  }
  std::lock_guard<std::mutex> lk(m.lora_mu);
  if (host->max_rank > m.lora_rank || !m.lora_x.get()) {
    m.lora_rank = std::max<int64_t>(m.lora_rank, host->max_rank);
    const size_t rows = static_cast<size_t>(m.lora_scratch_rows());
    m.lora_x = DeviceBuffer<float>(rows * m.lora_width);
    m.lora_v = DeviceBuffer<float>(rows * m.lora_width);
    m.lora_u = DeviceBuffer<float>(rows * m.lora_rank);
    if (!m.lora_rows_dev.get()) {
      m.lora_rows_dev = DeviceBuffer<int32_t>(2 * rows);  // experts' lists, then the chunk's
      m.lora_rows_host = PinnedBuffer<int32_t>(2 * rows);
    }
  }
  // The engine drops its last reference when the adapter is unloaded and no sequence uses it:
  // the device copy goes with it.
  const LoraAdapter* key = host.get();
  m.adapters.emplace(key, std::move(dev));
  Impl* impl = impl_.get();
  return std::shared_ptr<const LoraAdapter>(key, [impl, host](const LoraAdapter* p) mutable {
    std::lock_guard<std::mutex> lk(impl->lora_mu);
    impl->adapters.erase(p);
    host.reset();
  });
}

void CudaBackend::forward(const std::vector<BatchToken>& batch, float* logits) {
  Impl& m = *impl_;
  for (const auto& b : batch) {
    if (b.slot < 0 || b.slot >= m.slots || !m.pages->is_open(b.slot))
      fail(ErrorKind::kInternal, "batch row for a closed sequence slot");
    if (b.pos < 0 || b.pos >= m.pages->capacity(b.slot))
      fail(ErrorKind::kBadRequest, "position " + std::to_string(b.pos) + " beyond the sequence's KV capacity of " +
                                       std::to_string(m.pages->capacity(b.slot)));
    if (b.token < 0 || b.token >= m.cfg.vocab_size)
      fail(ErrorKind::kBadRequest, "token id " + std::to_string(b.token) + " outside vocabulary of " +
                                       std::to_string(m.cfg.vocab_size));
  }
  CUDA_CHECK(cudaSetDevice(m.copts.device));  // the calling thread may differ between calls
  // Consecutive chunks: a sequence's rows are in position order, so its earlier rows' KV is cached
  // by the time a later chunk attends to it.
  const size_t R = static_cast<size_t>(m.copts.max_rows);
  float* out = logits;
  for (size_t b0 = 0; b0 < batch.size(); b0 += R) {
    const size_t b1 = std::min(batch.size(), b0 + R);
    out += m.run_chunk(batch, b0, b1, out) * m.cfg.vocab_size;
  }
}

std::unique_ptr<Backend> make_cuda_backend(const ModelConfig& cfg, const TensorSource& src,
                                           const BackendOptions& opts) {
  CudaBackendOptions copts;
  copts.device = parse_device(opts.spec);
  try {
    return std::make_unique<CudaBackend>(cfg, src, opts, copts);
  } catch (const std::bad_alloc&) {
    fail(ErrorKind::kOutOfMemory, "out of host memory while loading " + cfg.arch_name + " for the CUDA backend");
  }
}

}  // namespace dse
