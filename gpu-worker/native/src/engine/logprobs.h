// Log-probabilities of a step's tokens, for OpenAI's logprobs/top_logprobs. They are taken from the
// model's raw distribution (log_softmax of the logits, before repetition penalty, temperature, top-k
// and top-p), as vLLM reports by default, so they do not depend on how the token was picked.
#pragma once
#include <utility>
#include <vector>

namespace dse {

// One sampled token's log-probability and the k most likely tokens of its step, best first (ties by
// lower id, the order the greedy sampler picks in).
struct TokenLogprobs {
  int seq_id = 0;
  int token = -1;
  float logprob = 0.f;
  std::vector<std::pair<int, float>> top;  // (token id, log-probability)
};

// What a step's logits say about its candidates; computed before sampling changes the row.
class StepLogprobs {
 public:
  // Reads `logits` ([vocab]): log-sum-exp and the k best (k in [0, 20]); keeps the row for chosen().
  void observe(const float* logits, int vocab, int k);
  // The log-probability record of `token`, which the sampler picked from the observed row.
  TokenLogprobs chosen(int token) const;

 private:
  std::vector<float> row_;
  double lse_ = 0;
  std::vector<std::pair<int, float>> top_;
};

}  // namespace dse
