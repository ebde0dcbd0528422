// The engine's scheduler: owns the backend and the table of live sequences, and advances every
// live sequence by one token per step(): prompts are prefilled in chunks, batched with the decode
// rows of the others, and a sequence's first token is sampled in the step its prompt completes. All methods are thread-safe; the intended driver is one
// thread calling step() in a loop (the Java Engine's scheduler thread).
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "engine/logprobs.h"
#include "engine/sampler.h"

namespace dse {

struct EngineOptions {
  std::string backend = "cpu";
  int threads = 0;
  bool int8 = false;
  int max_sequences = 8;
  int max_context = 0;  // 0: the model's max_position_embeddings
  int prefill_chunk = 512;  // prompt rows per sequence per step; 0: whole prompts at once
};

enum class FinishReason : int { kNone = 0, kStop = 1, kLength = 2, kCancelled = 3 };

struct StepEvent {
  int seq_id = 0;
  int token = -1;  // -1 when the event only carries a finish (stop token, cancellation)
  FinishReason finish = FinishReason::kNone;
  int prompt_tokens = 0;
  int completion_tokens = 0;  // tokens delivered with a token id so far, this one included
};

// What the engine holds now, for the worker's gauges. KV positions are reserved when a sequence
// starts (prompt + max_tokens, capped at the context), so used/total is the share admission sees.
struct EngineStats {
  int active = 0;               // live sequences (prefilling or decoding)
  int64_t kv_used_tokens = 0;   // KV positions reserved by live sequences
  int64_t kv_total_tokens = 0;  // KV positions the cache can hold
};

class Engine {
 public:
  static std::unique_ptr<Engine> load(const std::string& model_dir, const EngineOptions& opts);
  // The backend copies what it needs from `src`, which is released (unmapped) before returning.
  Engine(std::unique_ptr<TensorSource> src, const ModelConfig& cfg, const EngineOptions& opts);
  ~Engine();

  const ModelConfig& config() const { return backend_->config(); }
  int max_context() const { return max_context_; }
  int max_sequences() const { return opts_.max_sequences; }
  size_t weight_bytes() const { return backend_->weight_bytes(); }
  Backend& backend() { return *backend_; }

  // Validates and registers a sequence; it starts generating at the next step(). Returns its id.
  // adapter: a LoRA adapter id from load_adapter, or 0 for the base model.
  int start(const std::vector<int>& prompt, const SamplingParams& sampling, int adapter = 0);
  // Loads a PEFT LoRA adapter folder over the base weights and returns its id (> 0). The files are
  // read without holding the scheduler lock, so running sequences keep stepping meanwhile.
  int load_adapter(const std::string& dir);
  // Forgets the adapter: new sequences can no longer name it; sequences already using it finish
  // with it (they hold it). Unknown ids fail with kBadRequest.
  void unload_adapter(int adapter);
  // Loaded adapter ids, ascending.
  std::vector<int> adapters() const;
  // Frees the sequence's KV at once; the next step() reports it finished with kCancelled.
  // Unknown or finished ids are ignored (cancel races with natural completion).
  void cancel(int seq_id);
  // From the next step on, each token of the sequence comes with its log-probability and the k (0-20)
  // most likely alternatives, read by last_logprobs() after that step. Unknown ids are ignored.
  void request_logprobs(int seq_id, int k);
  // The log-probabilities of the last step's tokens, for the sequences that asked for them.
  std::vector<TokenLogprobs> last_logprobs() const;
  // Constrained decoding: from the next sample on, the sequence takes only tokens whose bit is set
  // (see token_mask.h) until another mask replaces it; an empty vector lifts the constraint. Refuses
  // a mask that allows no token. Unknown or finished ids are ignored, as in cancel().
  void set_token_mask(int seq_id, std::vector<uint64_t> mask);
  // Runs one batched forward for all live sequences and returns their new tokens and finishes.
  std::vector<StepEvent> step();
  int active() const;
  EngineStats stats() const;

  // Logits of a one-off prompt: all positions ([n, vocab]) or the last one ([vocab]).
  std::vector<float> forward_logits(const std::vector<int>& tokens, bool all_positions, int adapter = 0);

 private:
  struct Seq {
    int id = 0;
    int slot = 0;
    std::vector<int> prompt;
    int cached = 0;      // tokens in the KV cache
    int fed_rows = 0;    // rows this sequence put in the current step's batch
    int generated = 0;   // sampled tokens so far
    int last_token = -1;
    SamplingParams params;
    std::unique_ptr<Sampler> sampler;
    int top_logprobs = -1;  // -1: no log-probabilities
    std::unique_ptr<StepLogprobs> logprobs;
    std::vector<uint64_t> token_mask;  // empty: unconstrained
    std::shared_ptr<const LoraAdapter> adapter;  // null: the base model
  };

  void validate_prompt(const std::vector<int>& tokens) const;
  void release(Seq& s);
  std::shared_ptr<const LoraAdapter> adapter_of(int adapter) const;  // under mu_

  mutable std::mutex mu_;
  EngineOptions opts_;
  std::unique_ptr<Backend> backend_;
  int max_context_ = 0;
  int next_id_ = 1;
  int next_adapter_ = 1;
  std::map<int, std::shared_ptr<const LoraAdapter>> adapters_;
  std::map<int, Seq> seqs_;
  std::vector<bool> slot_busy_;
  std::vector<StepEvent> pending_;  // cancellations to report
  std::vector<TokenLogprobs> last_logprobs_;
  std::vector<BatchToken> batch_;
  std::vector<float> logits_;
};

}  // namespace dse
