// Per-sequence token sampling: repetition penalty (HF semantics), temperature, top-k, top-p, and a
// seeded generator of its own so a sequence's output does not depend on its neighbours.
#pragma once
#include <cstdint>
#include <vector>

namespace dse {

struct SamplingParams {
  float temperature = 0.f;  // <= 0: greedy
  float top_p = 1.f;        // (0, 1]
  int top_k = 0;            // 0: no limit
  float repetition_penalty = 1.f;
  uint64_t seed = 0;
  int max_tokens = 256;
  std::vector<int> stop_token_ids;
};

// Throws EngineError(kBadRequest) naming the offending parameter.
void validate_sampling(const SamplingParams& p);

// Greedy choice: the first index of the largest value (the lowest token id on ties), 0 when x[0] is NaN or
// no value is a number; NaNs elsewhere are never chosen. Eight running maxima (vectorised, unlike one
// compare-and-index chain: ~0.1 ms of a decode step over a 151936-token vocabulary), then the first match.
int greedy_argmax(const float* x, int n);

class Sampler {
 public:
  Sampler(const SamplingParams& p, int vocab);
  // Records a prompt or generated token for the repetition penalty.
  void observe(int token);
  // Picks the next token; `logits` ([vocab]) is used as scratch and modified.
  int sample(float* logits);
  // Uniform in [0, 1) from xoshiro256** (portable, unlike std distributions).
  double next_uniform();

 private:
  uint64_t next();
  // Sorts into order_ a head of the vocabulary that surely holds the top-p prefix; returns its size
  // (vocab when it sorted everything) and sets *mass to the whole vocabulary's (unnormalised) mass.
  int sort_top_p_head(const float* logits, float inv_t, double* mass);

  SamplingParams p_;
  int vocab_;
  uint64_t s_[4];
  std::vector<uint8_t> seen_;    // [vocab]
  std::vector<int> order_;       // [vocab] candidate indices
  std::vector<float> probs_;     // [vocab]
};

}  // namespace dse
