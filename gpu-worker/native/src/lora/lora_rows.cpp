#include "lora/lora_rows.h"

#include <algorithm>

#include "kernels/matmul.h"
#include "model/model_common.h"

namespace dse {

void LoraRows::index_distinct() {
  distinct_.clear();
  for (const LoraAdapter* a : rows_)
    if (a && std::find(distinct_.begin(), distinct_.end(), a) == distinct_.end()) distinct_.push_back(a);
}

void LoraRows::assign(const std::vector<BatchToken>& batch) {
  rows_.resize(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) rows_[i] = batch[i].adapter;
  index_distinct();
}

void LoraRows::pick(const LoraRows& parent, const int64_t* rows, int64_t n) {
  rows_.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) rows_[i] = parent.row(rows[i]);
  index_distinct();
}

void LoraRows::apply(const Weight& w, const float* x, int64_t T, float* y, ThreadPool* pool) {
  for (const LoraAdapter* a : distinct_) {
    const LoraDelta* d = a->delta(w);
    if (!d) continue;
    picked_.clear();
    for (int64_t t = 0; t < T; ++t)
      if (rows_[t] == a) picked_.push_back(t);
    const int64_t n = static_cast<int64_t>(picked_.size()), in = w.cols, out = w.rows, r = d->a.rows;
    const bool all = n == T;  // one adapter for the whole batch: no gather
    const float* xs = x;
    if (!all) {
      float* g = scratch(xg_, static_cast<size_t>(n * in));
      for (int64_t i = 0; i < n; ++i) std::copy(x + picked_[i] * in, x + (picked_[i] + 1) * in, g + i * in);
      xs = g;
    }
    float* u = scratch(u_, static_cast<size_t>(n * r));
    float* v = scratch(v_, static_cast<size_t>(n * out));
    matmul(d->a, xs, n, u, nullptr, pool);
    matmul(d->b, u, n, v, nullptr, pool);
    for (int64_t i = 0; i < n; ++i) {
      float* yr = y + (all ? i : picked_[i]) * out;
      const float* vr = v + i * out;
      for (int64_t o = 0; o < out; ++o) yr[o] += vr[o];
    }
  }
}

void matmul_lora(const Weight& w, const float* x, int64_t T, float* y, const float* bias, ThreadPool* pool,
                 LoraRows& lora) {
  matmul(w, x, T, y, bias, pool);
  if (lora.any()) lora.apply(w, x, T, y, pool);
}

void matmul_lora_group(const MatmulJob* jobs, int n, const float* x, int64_t T, ThreadPool* pool, LoraRows& lora) {
  matmul_group(jobs, n, x, T, pool);
  if (lora.any())
    for (int j = 0; j < n; ++j) lora.apply(*jobs[j].w, x, T, jobs[j].y, pool);
}

}  // namespace dse
