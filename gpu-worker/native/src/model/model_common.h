// Pieces shared by the model definitions: scratch buffers, embedding lookup, output head, SwiGLU MLP.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "lora/lora_rows.h"
#include "model/model.h"

namespace dse {

// Grows only, so steady-state decoding allocates nothing.
inline float* scratch(std::vector<float>& buf, size_t n) {
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

// SwiGLU feed-forward: down(silu(gate(x)) * up(x)).
struct Mlp {
  Weight gate, up, down;
  std::vector<float> buf_gate, buf_up;  // [T, inter]

  static Mlp load(const WeightLoader& wl, const std::string& prefix, int64_t hidden, int64_t inter);
  // x: [T, hidden] -> out: [T, hidden] (overwritten); lora: the adapter of each of the T rows.
  void forward(const float* x, int64_t T, float* out, ThreadPool& pool, LoraRows& lora);
  // Registers gate/up/down as LoRA targets under `module` (e.g. "model.layers.0.mlp").
  void add_lora_targets(LoraTargets& targets, const std::string& module) const;
  // Decode: the read-ahead hint for the gate/up pass (kernels/matmul.h, prefetch_decode); forward posts
  // the one for down itself.
  void prefetch_decode(ThreadPool& pool) const;
  size_t bytes() const { return gate.bytes() + up.bytes() + down.bytes(); }
};

// Token embeddings [vocab, hidden], final norm and lm_head, shared by every architecture.
struct OutputHead {
  Weight embed;
  std::vector<float> norm;
  Weight lm_head;  // empty rows when tied to embed
  std::vector<float> buf_rows;

  void load(const WeightLoader& wl, const ModelConfig& cfg);
  void embed_batch(const std::vector<BatchToken>& batch, int64_t vocab, float* x) const;
  void logits(const std::vector<BatchToken>& batch, const float* x, int64_t hidden, float eps, float* out,
              ThreadPool& pool);
  // Decode: the read-ahead hint for the logits pass (kernels/matmul.h, prefetch_decode).
  void prefetch_decode(ThreadPool& pool) const;
  size_t bytes() const { return embed.bytes() + lm_head.bytes() + norm.size() * 4; }
};

// Runs fn(item, scratch) for items [0, n) on the pool, giving each worker chunk its own scratch
// row of `scratch_floats` taken from `buf` (sized here, grows only).
void parallel_items(ThreadPool& pool, int64_t n, int64_t scratch_floats, std::vector<float>& buf,
                    const std::function<void(int64_t, float*)>& fn);

std::string layer_prefix(int layer);

}  // namespace dse
