// Run-time LoRA for a mixed batch: which adapter each row uses (null: the base model), and the
// low-rank product y[t] += B (A x[t]) for the rows whose adapter adapts the matrix at hand. Rows
// are grouped per adapter, so each adapter's A and B are read once per matmul.
#pragma once
#include <cstdint>
#include <vector>

#include "common/thread_pool.h"
#include "kernels/matmul.h"
#include "lora/lora_adapter.h"
#include "memory/weight.h"
#include "model/model.h"

namespace dse {

class LoraRows {
 public:
  // Each batch row's adapter.
  void assign(const std::vector<BatchToken>& batch);
  // The rows `rows[0..n)` of `parent` (a MoE expert's gathered tokens).
  void pick(const LoraRows& parent, const int64_t* rows, int64_t n);
  bool any() const { return !distinct_.empty(); }
  const LoraAdapter* row(int64_t t) const { return distinct_.empty() ? nullptr : rows_[t]; }
  // The matrix row t multiplies by where a model reads W whole (merged adapters).
  const Weight& resolve(const Weight& w, int64_t t) const {
    const LoraAdapter* a = row(t);
    return a ? a->resolve(w) : w;
  }
  // y [T, w.rows] += B (A x) for every row whose adapter has a run-time delta on w.
  void apply(const Weight& w, const float* x, int64_t T, float* y, ThreadPool* pool);

 private:
  void index_distinct();

  std::vector<const LoraAdapter*> rows_;      // [T]
  std::vector<const LoraAdapter*> distinct_;  // adapters present, in first-seen order
  std::vector<int64_t> picked_;               // rows of one adapter
  std::vector<float> xg_, u_, v_;             // gathered x [n, in], A x [n, r], B A x [n, out]
};

// matmul (kernels/matmul.h) plus each row's run-time LoRA delta.
void matmul_lora(const Weight& w, const float* x, int64_t T, float* y, const float* bias, ThreadPool* pool,
                 LoraRows& lora);
// matmul_group (one decode pass over several matrices of the same input), then each one's adapters.
void matmul_lora_group(const MatmulJob* jobs, int n, const float* x, int64_t T, ThreadPool* pool, LoraRows& lora);

}  // namespace dse
