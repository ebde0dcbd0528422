// CudaBackend: LoRA adapters on device. The adaptable projections' host stand-ins (names and shapes
// load_lora_adapter checks), loading an adapter (A and B as bf16, MLA's kv_b_proj merged in f32),
// a chunk's rows grouped per adapter, and the B (A x) products added after each base matmul.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "cuda/cuda_backend_impl.h"
#include "cuda/cuda_check.cuh"
#include "cuda/gather_rows.cuh"
#include "cuda/matmul.cuh"
#include "cuda/mla_absorb.cuh"
#include "cuda/scatter_rows.cuh"
#include "lora/lora_adapter.h"

namespace dse {

void CudaBackend::Impl::add_lora_site(const std::string& module, const DevMatrix& m) {
  Weight& w = lora_shapes.emplace_back();
  w.rows = m.rows;
  w.cols = m.cols;
  lora_targets[module] = {&w};
  lora_sites[&w] = &m;
  lora_width = std::max({lora_width, m.rows, m.cols});
}

void CudaBackend::Impl::add_mlp_sites(const std::string& module, const DevMlp& m) {
  add_lora_site(module + ".gate_proj", m.gate);
  add_lora_site(module + ".up_proj", m.up);
  add_lora_site(module + ".down_proj", m.down);
}

void CudaBackend::Impl::index_lora_sites() {
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

void CudaBackend::Impl::lora_apply(const std::vector<LoraGroup>& groups, const DevMatrix& m, const float* in,
                                   int64_t ldin, float* out, int64_t ldout) {
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

void CudaBackend::Impl::lora_absorb_query(int l, int64_t nh, const float* q_rows, float* q_abs) {
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

void CudaBackend::Impl::lora_expand_value(int l, int64_t nh, const float* lat_rows, float* out) {
  const int64_t R = cfg.kv_lora_rank, vd = cfg.v_head_dim;
  for (const LoraGroup& g : chunk_groups) {
    auto it = g.adapter->kv_b.find(l);
    if (it == g.adapter->kv_b.end()) continue;
    cuda::gather_rows(lat_rows, nh * R, g.rows, g.n, nh * R, lora_x.get(), nh * R, stream);
    cuda::mla_expand_value(it->second.get(), g.n, nh, cfg.qk_nope_dim, vd, R, lora_x.get(), lora_v.get(), stream);
    cuda::scatter_rows(lora_v.get(), nh * vd, g.rows, g.n, nh * vd, out, nh * vd, false, stream);
  }
}

void CudaBackend::Impl::group_lora_rows(const std::vector<BatchToken>& batch, size_t b0, size_t b1,
                                        std::unique_lock<std::mutex>& lk) {
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

}  // namespace dse
