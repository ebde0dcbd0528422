#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "common/error.h"

namespace dse {

void validate_sampling(const SamplingParams& p) {
  if (!(p.temperature >= 0.f) || std::isinf(p.temperature))
    fail(ErrorKind::kBadRequest, "temperature must be >= 0, got " + std::to_string(p.temperature));
  if (!(p.top_p > 0.f && p.top_p <= 1.f))
    fail(ErrorKind::kBadRequest, "top_p must be in (0, 1], got " + std::to_string(p.top_p));
  if (p.top_k < 0) fail(ErrorKind::kBadRequest, "top_k must be >= 0, got " + std::to_string(p.top_k));
  if (!(p.repetition_penalty > 0.f))
    fail(ErrorKind::kBadRequest, "repetition_penalty must be > 0, got " + std::to_string(p.repetition_penalty));
  if (p.max_tokens <= 0) fail(ErrorKind::kBadRequest, "max_tokens must be > 0, got " + std::to_string(p.max_tokens));
}

static uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Sampler::Sampler(const SamplingParams& p, int vocab)
    : p_(p), vocab_(vocab), seen_(static_cast<size_t>(vocab), 0), order_(static_cast<size_t>(vocab)),
      probs_(static_cast<size_t>(vocab)) {
  uint64_t x = p.seed;
  for (auto& s : s_) s = splitmix64(x);
}

uint64_t Sampler::next() {
  auto rotl = [](uint64_t v, int k) { return (v << k) | (v >> (64 - k)); };
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Sampler::next_uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }

void Sampler::observe(int token) {
  if (token >= 0 && token < vocab_) seen_[token] = 1;
}

int Sampler::sample(float* logits) {
  if (p_.repetition_penalty != 1.f) {
    for (int i = 0; i < vocab_; ++i) {
      if (!seen_[i]) continue;
      logits[i] = logits[i] > 0 ? logits[i] / p_.repetition_penalty : logits[i] * p_.repetition_penalty;
    }
  }
  if (p_.temperature <= 0.f) {
    int best = 0;
    for (int i = 1; i < vocab_; ++i)
      if (logits[i] > logits[best]) best = i;
    return best;
  }
  // Candidates in descending logit order; only as many as top-k / top-p can need are sorted.
  int n = vocab_;
  std::iota(order_.begin(), order_.end(), 0);
  auto desc = [logits](int a, int b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  if (p_.top_k > 0 && p_.top_k < vocab_) {
    n = p_.top_k;
    std::partial_sort(order_.begin(), order_.begin() + n, order_.end(), desc);
  } else if (p_.top_p < 1.f) {
    std::sort(order_.begin(), order_.end(), desc);
  }
  const float inv_t = 1.f / p_.temperature;
  float m = logits[order_[0]];
  for (int i = 1; i < n; ++i) m = std::max(m, logits[order_[i]]);
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    probs_[i] = std::exp((logits[order_[i]] - m) * inv_t);
    sum += probs_[i];
  }
  if (p_.top_p < 1.f) {
    // Smallest prefix whose mass reaches top_p (always at least one token).
    double cum = 0;
    int keep = n;
    for (int i = 0; i < n; ++i) {
      cum += probs_[i] / sum;
      if (cum >= p_.top_p) {
        keep = i + 1;
        break;
      }
    }
    n = keep;
    sum = 0;
    for (int i = 0; i < n; ++i) sum += probs_[i];
  }
  double r = next_uniform() * sum;
  for (int i = 0; i < n; ++i) {
    r -= probs_[i];
    if (r < 0) return order_[i];
  }
  return order_[n - 1];
}

}  // namespace dse
