#include "cuda/cuda_backend.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdlib>
#include <new>
#include <string>

#include "common/dtype.h"
#include "common/error.h"
#include "cuda/cuda_check.cuh"
#include "cuda/device_buffer.cuh"
#include "cuda/embed.cuh"
#include "cuda/gather_rows.cuh"
#include "cuda/matmul.cuh"
#include "cuda/paged_attention.cuh"
#include "cuda/paged_kv.cuh"
#include "cuda/rmsnorm.cuh"
#include "cuda/rope.cuh"
#include "cuda/silu_mul.cuh"
#include "kernels/rope.h"
#include "loader/weight_loader.h"

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

DeviceBuffer<float> upload_vector(const std::vector<float>& v) {
  DeviceBuffer<float> d(v.size());
  if (!v.empty()) d.upload(v.data(), v.size());
  return d;
}

struct DenseLayer {
  DeviceBuffer<float> in_norm, post_norm;  // [H]
  DevMatrix wq, wk, wv, wo, gate, up, down;
  DeviceBuffer<float> bq, bk, bv;          // [qd], [kvd], [kvd] or empty
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
  ModelConfig cfg;
  CudaBackendOptions copts;
  int slots = 0;
  size_t weight_bytes = 0;
  cudaStream_t stream = nullptr;

  // Weights.
  DevMatrix embed, lm_head;  // lm_head empty when tied
  DeviceBuffer<float> final_norm;  // [H]
  std::vector<DenseLayer> layers;
  DeviceBuffer<float> inv_freq;  // [head_dim / 2]
  float rope_attention_factor = 1.f;

  // Paged KV cache: per layer [num_blocks * block_size, width] fp32, one allocation.
  int64_t kv_width = 0;
  int32_t num_blocks = 0;
  int32_t max_blocks_per_seq = 0;
  DeviceBuffer<float> kv;  // [layers, num_blocks * block_size, width]
  std::unique_ptr<BlockAllocator> alloc;
  std::unique_ptr<PageTable> pages;

  // Per-chunk metadata, staged in pinned memory and copied in one transfer:
  // [tokens T | pos T | n_ctx T | row_index T | row_seq T | logit_rows T | tables slots * max_blocks]
  PinnedBuffer<int32_t> meta_host;
  DeviceBuffer<int32_t> meta_dev;
  PinnedBuffer<float> logits_host;  // [max_rows, vocab]
  std::vector<int> slot_to_seq;     // [slots] chunk-local sequence index or -1

  // Activations, views into one arena, sized for max_rows.
  std::unique_ptr<DeviceArena> arena;
  float *x = nullptr, *h = nullptr, *q = nullptr, *k = nullptr, *v = nullptr, *att = nullptr;
  float *g = nullptr, *u = nullptr, *logit_x = nullptr, *logits = nullptr;

  void load(const TensorSource& src, const LoadOptions& lo) {
    if (lo.int8) fail(ErrorKind::kUnsupported, "int8 is a CPU-backend option; the CUDA backend runs bf16");
    if (cfg.is_mla())
      fail(ErrorKind::kUnsupported, "the CUDA backend does not run " + cfg.arch_name +
                                        " (MLA/MoE) yet; use the cpu backend");
    WeightLoader wl(src, lo);
    const int64_t H = cfg.hidden_size, qd = int64_t(cfg.num_heads) * cfg.head_dim,
                  kvd = int64_t(cfg.num_kv_heads) * cfg.head_dim, I = cfg.intermediate_size;
    embed = upload_matrix(wl.matrix("model.embed_tokens.weight", cfg.vocab_size, H, false));
    final_norm = upload_vector(wl.vector("model.norm.weight", H));
    if (!(cfg.tie_embeddings && !wl.has("lm_head.weight")))
      lm_head = upload_matrix(wl.matrix("lm_head.weight", cfg.vocab_size, H, false));
    for (int l = 0; l < cfg.num_layers; ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      DenseLayer L;
      L.in_norm = upload_vector(wl.vector(p + "input_layernorm.weight", H));
      L.post_norm = upload_vector(wl.vector(p + "post_attention_layernorm.weight", H));
      L.wq = upload_matrix(wl.matrix(p + "self_attn.q_proj.weight", qd, H, false));
      L.wk = upload_matrix(wl.matrix(p + "self_attn.k_proj.weight", kvd, H, false));
      L.wv = upload_matrix(wl.matrix(p + "self_attn.v_proj.weight", kvd, H, false));
      L.wo = upload_matrix(wl.matrix(p + "self_attn.o_proj.weight", H, qd, false));
      if (cfg.attention_bias) {
        L.bq = upload_vector(wl.vector(p + "self_attn.q_proj.bias", qd));
        L.bk = upload_vector(wl.vector(p + "self_attn.k_proj.bias", kvd));
        L.bv = upload_vector(wl.vector(p + "self_attn.v_proj.bias", kvd));
      }
      L.gate = upload_matrix(wl.matrix(p + "mlp.gate_proj.weight", I, H, false));
      L.up = upload_matrix(wl.matrix(p + "mlp.up_proj.weight", I, H, false));
      L.down = upload_matrix(wl.matrix(p + "mlp.down_proj.weight", H, I, false));
      layers.push_back(std::move(L));
    }
    weight_bytes = embed.w.bytes() + lm_head.w.bytes() + final_norm.bytes();
    for (const auto& L : layers)
      weight_bytes += L.in_norm.bytes() + L.post_norm.bytes() + L.wq.w.bytes() + L.wk.w.bytes() + L.wv.w.bytes() +
                      L.wo.w.bytes() + L.gate.w.bytes() + L.up.w.bytes() + L.down.w.bytes() + L.bq.bytes() +
                      L.bk.bytes() + L.bv.bytes();
    RopeTable rt = make_rope_table(cfg.rope, cfg.head_dim, cfg.max_position);
    inv_freq = upload_vector(rt.inv_freq);
    rope_attention_factor = rt.attention_factor;
  }

  void alloc_kv() {
    kv_width = 2LL * cfg.num_kv_heads * cfg.head_dim;
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
    num_blocks = static_cast<int32_t>(std::max<int64_t>(0, want / block_bytes));
    if (num_blocks == 0) fail(ErrorKind::kOutOfMemory, "no device memory left for the KV cache after the weights");
    kv = DeviceBuffer<float>(static_cast<size_t>(num_blocks) * bs * kv_width * cfg.num_layers);
    alloc = std::make_unique<BlockAllocator>(num_blocks);
    pages = std::make_unique<PageTable>(*alloc, slots, bs);
  }

  int64_t activation_floats() const {
    const int64_t R = copts.max_rows, H = cfg.hidden_size, qd = int64_t(cfg.num_heads) * cfg.head_dim,
                  kvd = int64_t(cfg.num_kv_heads) * cfg.head_dim, I = cfg.intermediate_size;
    return R * (2 * H + qd + 2 * kvd + qd + 2 * I + H + cfg.vocab_size);
  }
  int64_t activation_bytes() const { return activation_floats() * 4 + 64 * 256; }

  void alloc_activations() {
    const int64_t R = copts.max_rows, H = cfg.hidden_size, qd = int64_t(cfg.num_heads) * cfg.head_dim,
                  kvd = int64_t(cfg.num_kv_heads) * cfg.head_dim, I = cfg.intermediate_size;
    arena = std::make_unique<DeviceArena>(static_cast<size_t>(activation_bytes()));
    x = arena->take<float>(R * H, "x");             // [R, H] residual stream
    h = arena->take<float>(R * H, "h");             // [R, H] normed input
    q = arena->take<float>(R * qd, "q");            // [R, nh * hd]
    k = arena->take<float>(R * kvd, "k");           // [R, nkv * hd]
    v = arena->take<float>(R * kvd, "v");           // [R, nkv * hd]
    att = arena->take<float>(R * qd, "att");        // [R, nh * hd]
    g = arena->take<float>(R * I, "gate");          // [R, I]
    u = arena->take<float>(R * I, "up");            // [R, I]
    logit_x = arena->take<float>(R * H, "logit_x"); // [R, H] normed rows that want logits
    logits = arena->take<float>(R * int64_t(cfg.vocab_size), "logits");  // [R, vocab]
    const size_t meta = static_cast<size_t>(6 * R + int64_t(slots) * max_blocks_per_seq);
    meta_host = PinnedBuffer<int32_t>(meta);
    meta_dev = DeviceBuffer<int32_t>(meta);
    logits_host = PinnedBuffer<float>(static_cast<size_t>(R * cfg.vocab_size));
    slot_to_seq.assign(static_cast<size_t>(slots), -1);
  }

  // One device forward over batch rows [b0, b1) (at most max_rows); returns logits rows written.
  int64_t run_chunk(const std::vector<BatchToken>& batch, size_t b0, size_t b1, float* out) {
    const int64_t T = static_cast<int64_t>(b1 - b0), R = copts.max_rows;
    const int64_t H = cfg.hidden_size, hd = cfg.head_dim, nh = cfg.num_heads, nkv = cfg.num_kv_heads;
    const int64_t qd = nh * hd, kvd = nkv * hd, I = cfg.intermediate_size, V = cfg.vocab_size;
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
    int64_t nl = 0;
    for (size_t i = b0; i < b1; ++i) {
      const BatchToken& b = batch[i];
      const int64_t t = static_cast<int64_t>(i - b0);
      const int seq = slot_to_seq[static_cast<size_t>(b.slot)];
      tokens[t] = b.token;
      pos[t] = b.pos;
      n_ctx[t] = b.pos + 1;
      row_index[t] = pages->block_of(b.slot, b.pos) * bs + b.pos % bs;
      row_seq[t] = seq;
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
    const int32_t* d = meta_dev.get();
    const int32_t *d_tokens = d, *d_pos = d + R, *d_nctx = d + 2 * R, *d_rowidx = d + 3 * R, *d_rowseq = d + 4 * R,
                  *d_logit = d + 5 * R, *d_tables = d + 6 * R;

    const float eps = static_cast<float>(cfg.rms_eps);
    const int64_t layer_floats = int64_t(num_blocks) * bs * kv_width;
    cuda::embed_rows(embed.w.get(), H, d_tokens, T, x, H, stream);
    for (int l = 0; l < cfg.num_layers; ++l) {
      DenseLayer& L = layers[static_cast<size_t>(l)];
      float* cache = kv.get() + int64_t(l) * layer_floats;
      cuda::rmsnorm(x, H, L.in_norm.get(), T, H, eps, h, H, stream);
      cuda::matmul_bf16(L.wq.w.get(), qd, H, h, H, T, q, qd, L.bq.get(), false, stream);
      cuda::matmul_bf16(L.wk.w.get(), kvd, H, h, H, T, k, kvd, L.bk.get(), false, stream);
      cuda::matmul_bf16(L.wv.w.get(), kvd, H, h, H, T, v, kvd, L.bv.get(), false, stream);
      cuda::rope(q, qd, T, nh, hd, d_pos, inv_freq.get(), cfg.head_dim, rope_attention_factor, false, stream);
      cuda::rope(k, kvd, T, nkv, hd, d_pos, inv_freq.get(), cfg.head_dim, rope_attention_factor, false, stream);
      // Every row's K/V is cached before any row attends (rows of one prompt see each other).
      cuda::kv_scatter(k, kvd, T, kvd, d_rowidx, cache, kv_width, 0, stream);
      cuda::kv_scatter(v, kvd, T, kvd, d_rowidx, cache, kv_width, kvd, stream);
      cuda::PagedAttnArgs a{};
      a.q = q;
      a.ldq = qd;
      a.q_head_stride = hd;
      a.cache = cache;
      a.width = kv_width;
      a.k_col = 0;
      a.v_col = kvd;
      a.kv_head_stride = hd;
      a.heads = static_cast<int>(nh);
      a.group = static_cast<int>(nh / nkv);
      a.d = static_cast<int>(hd);
      a.dv = static_cast<int>(hd);
      a.scale = static_cast<float>(cfg.softmax_scale());
      a.n_ctx = d_nctx;
      a.row_seq = d_rowseq;
      a.tables = d_tables;
      a.max_blocks = width_blocks;
      a.block_size = bs;
      a.out = att;
      a.ldo = qd;
      a.T = T;
      cuda::paged_attention(a, stream);
      cuda::matmul_bf16(L.wo.w.get(), H, qd, att, qd, T, x, H, nullptr, true, stream);  // x += o_proj(att)
      cuda::rmsnorm(x, H, L.post_norm.get(), T, H, eps, h, H, stream);
      cuda::matmul_bf16(L.gate.w.get(), I, H, h, H, T, g, I, nullptr, false, stream);
      cuda::matmul_bf16(L.up.w.get(), I, H, h, H, T, u, I, nullptr, false, stream);
      cuda::silu_mul(g, I, u, I, T, I, g, I, stream);
      cuda::matmul_bf16(L.down.w.get(), H, I, g, I, T, x, H, nullptr, true, stream);  // x += mlp(h)
    }
    if (nl > 0) {
      cuda::gather_rows(x, H, d_logit, nl, H, logit_x, H, stream);
      cuda::rmsnorm(logit_x, H, final_norm.get(), nl, H, eps, logit_x, H, stream);
      const DevMatrix& head = lm_head.rows ? lm_head : embed;
      cuda::matmul_bf16(head.w.get(), V, H, logit_x, H, nl, logits, V, nullptr, false, stream);
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
  if (!cuda_device_available()) fail(ErrorKind::kUnsupported, "no CUDA device available for backend cuda");
  int n = 0;
  CUDA_CHECK(cudaGetDeviceCount(&n));
  if (copts.device < 0 || copts.device >= n)
    fail(ErrorKind::kUnsupported, "CUDA device " + std::to_string(copts.device) + " does not exist (" +
                                      std::to_string(n) + " found)");
  CUDA_CHECK(cudaSetDevice(copts.device));
  CUDA_CHECK(cudaStreamCreateWithFlags(&m.stream, cudaStreamNonBlocking));
  m.load(src, opts.load);
  m.alloc_kv();
  m.alloc_activations();
}

CudaBackend::~CudaBackend() {
  if (impl_ && impl_->stream) {
    cudaSetDevice(impl_->copts.device);
    cudaStreamSynchronize(impl_->stream);
    cudaStreamDestroy(impl_->stream);
  }
}

std::string CudaBackend::name() const { return "cuda:" + std::to_string(impl_->copts.device); }
const ModelConfig& CudaBackend::config() const { return impl_->cfg; }
size_t CudaBackend::weight_bytes() const { return impl_->weight_bytes; }
int32_t CudaBackend::kv_blocks_total() const { return impl_->alloc->total(); }
int32_t CudaBackend::kv_blocks_free() const { return impl_->alloc->free_count(); }

void CudaBackend::open_sequence(int slot, int64_t capacity) {
  if (capacity > impl_->cfg.max_position)
    fail(ErrorKind::kBadRequest, "sequence capacity " + std::to_string(capacity) + " beyond max_position " +
                                     std::to_string(impl_->cfg.max_position));
  impl_->pages->open(slot, capacity);
}

void CudaBackend::close_sequence(int slot) { impl_->pages->close(slot); }

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
