#include "model/model_common.h"

#include <algorithm>

#include "common/error.h"
#include "common/op_timer.h"
#include "kernels/matmul.h"
#include "kernels/rmsnorm.h"
#include "kernels/silu_mul.h"

namespace dse {

std::string layer_prefix(int layer) { return "model.layers." + std::to_string(layer) + "."; }

Mlp Mlp::load(const WeightLoader& wl, const std::string& prefix, int64_t hidden, int64_t inter) {
  Mlp m;
  m.gate = wl.matrix(prefix + "gate_proj.weight", inter, hidden);
  m.up = wl.matrix(prefix + "up_proj.weight", inter, hidden);
  m.down = wl.matrix(prefix + "down_proj.weight", hidden, inter);
  return m;
}

void Mlp::forward(const float* x, int64_t T, float* out, ThreadPool& pool, LoraRows& lora) {
  const int64_t inter = gate.rows;
  float* g = scratch(buf_gate, static_cast<size_t>(T * inter));
  float* u = scratch(buf_up, static_cast<size_t>(T * inter));
  const MatmulJob gate_up[] = {{&gate, g, nullptr}, {&up, u, nullptr}};
  {
    DSE_TIME_OP(op_timer::kGateUp, gate.bytes() + up.bytes());
    matmul_lora_group(gate_up, 2, x, T, &pool, lora);
  }
  if (T == 1) dse::prefetch_decode(down, &pool);  // read ahead during the SwiGLU below
  // One decode row on the calling thread: with the vectorized exp that is ~4 us at 8960 columns,
  // less than a pool pass costs (its dispatch, and a wake-up when the worker has gone to sleep: ~60 us
  // per layer measured on a busy machine), and a decode step has one pass fewer per layer. Prefill
  // rows are split by columns over the pool. Same values either way.
  {
    DSE_TIME_OP(op_timer::kSilu);
    if (T == 1)
      silu_mul(g, inter, u, inter, T, inter, g, inter);
    else
      pool.parallel_for(inter, [&](int64_t c0, int64_t c1) {
        silu_mul(g + c0, inter, u + c0, inter, T, c1 - c0, g + c0, inter);
      });
  }
  DSE_TIME_OP(op_timer::kDown, down.bytes());
  matmul_lora(down, g, T, out, nullptr, &pool, lora);
}

void Mlp::prefetch_decode(ThreadPool& pool) const {
  const MatmulJob gate_up[] = {{&gate, nullptr, nullptr}, {&up, nullptr, nullptr}};
  dse::prefetch_decode(gate_up, 2, &pool);
}

void Mlp::add_lora_targets(LoraTargets& targets, const std::string& module) const {
  targets[module + ".gate_proj"] = {&gate};
  targets[module + ".up_proj"] = {&up};
  targets[module + ".down_proj"] = {&down};
}

void OutputHead::load(const WeightLoader& wl, const ModelConfig& cfg) {
  // Embedding rows are read one token at a time, so int8 buys nothing there; keep source precision.
  embed = wl.matrix("model.embed_tokens.weight", cfg.vocab_size, cfg.hidden_size, false);
  norm = wl.vector("model.norm.weight", cfg.hidden_size);
  if (cfg.tie_embeddings && !wl.has("lm_head.weight")) {
    lm_head = Weight();
  } else {
    lm_head = wl.matrix("lm_head.weight", cfg.vocab_size, cfg.hidden_size);
  }
}

void OutputHead::embed_batch(const std::vector<BatchToken>& batch, int64_t vocab, float* x) const {
  for (size_t i = 0; i < batch.size(); ++i) {
    const int32_t tok = batch[i].token;
    if (tok < 0 || tok >= vocab)
      fail(ErrorKind::kBadRequest, "token id " + std::to_string(tok) + " outside vocabulary of " + std::to_string(vocab));
    embed.row_f32(tok, x + static_cast<int64_t>(i) * embed.cols);
  }
}

void OutputHead::logits(const std::vector<BatchToken>& batch, const float* x, int64_t hidden, float eps, float* out,
                        ThreadPool& pool) {
  int64_t n = 0;
  for (const auto& b : batch) n += b.logits ? 1 : 0;
  if (n == 0) return;
  float* rows = scratch(buf_rows, static_cast<size_t>(n * hidden));
  int64_t r = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!batch[i].logits) continue;
    rmsnorm(x + static_cast<int64_t>(i) * hidden, hidden, norm.data(), 1, hidden, eps, rows + r * hidden, hidden);
    ++r;
  }
  const Weight& w = lm_head.rows ? lm_head : embed;
  DSE_TIME_OP(op_timer::kLmHead, w.bytes());
  matmul(w, rows, n, out, nullptr, &pool);
}

void OutputHead::prefetch_decode(ThreadPool& pool) const { dse::prefetch_decode(lm_head.rows ? lm_head : embed, &pool); }

void parallel_items(ThreadPool& pool, int64_t n, int64_t scratch_floats, std::vector<float>& buf,
                    const std::function<void(int64_t, float*)>& fn) {
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(pool.size(), n));
  float* base = scratch(buf, static_cast<size_t>(chunks * scratch_floats));
  pool.parallel_for(chunks, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) {
      const int64_t begin = n * c / chunks, end = n * (c + 1) / chunks;
      for (int64_t i = begin; i < end; ++i) fn(i, base + c * scratch_floats);
    }
  });
}

}  // namespace dse
