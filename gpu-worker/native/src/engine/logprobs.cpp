#include "engine/logprobs.h"

#include <algorithm>
#include <cmath>

namespace dse {

void StepLogprobs::observe(const float* logits, int vocab, int k) {
  row_.assign(logits, logits + vocab);  // the sampler's penalty rewrites the row in place
  float m = logits[0];
  for (int i = 1; i < vocab; ++i) m = std::max(m, logits[i]);
  double sum = 0;
  for (int i = 0; i < vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - m);
  lse_ = m + std::log(sum);
  top_.clear();
  if (k <= 0) return;
  k = std::min(k, vocab);
  // a min-heap of the k best so far: one pass, no sort of the whole vocabulary
  auto better = [](const std::pair<int, float>& a, const std::pair<int, float>& b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  };
  for (int i = 0; i < vocab; ++i) {
    if (static_cast<int>(top_.size()) < k) {
      top_.emplace_back(i, logits[i]);
      std::push_heap(top_.begin(), top_.end(), better);
    } else if (better({i, logits[i]}, top_.front())) {
      std::pop_heap(top_.begin(), top_.end(), better);
      top_.back() = {i, logits[i]};
      std::push_heap(top_.begin(), top_.end(), better);
    }
  }
  std::sort(top_.begin(), top_.end(), better);
  for (auto& t : top_) t.second = static_cast<float>(t.second - lse_);
}

TokenLogprobs StepLogprobs::chosen(int token) const {
  TokenLogprobs out;
  out.token = token;
  out.logprob = static_cast<float>(row_[token] - lse_);
  out.top = top_;
  return out;
}

}  // namespace dse
