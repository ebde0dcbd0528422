#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "common/error.h"

namespace dse {

int greedy_argmax(const float* x, int n) {
  if (n <= 0 || std::isnan(x[0])) return 0;
  const float lowest = -std::numeric_limits<float>::infinity();
  float m[8] = {lowest, lowest, lowest, lowest, lowest, lowest, lowest, lowest};
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) m[k] = x[i + k] > m[k] ? x[i + k] : m[k];
  float best = std::max(std::max(std::max(m[0], m[1]), std::max(m[2], m[3])), std::max(std::max(m[4], m[5]), std::max(m[6], m[7])));
  for (; i < n; ++i) best = x[i] > best ? x[i] : best;
  for (int j = 0; j < n; ++j)
    if (x[j] == best) return j;
  return 0;
}

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

// Descending logit, ties by lower id: the order HF's sort gives and every path here must agree on.
static auto by_logit_desc(const float* logits) {
  return [logits](int a, int b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
}

int Sampler::sort_top_p_head(const float* logits, float inv_t, double* mass) {
  // Top-p needs only the head of the sorted vocabulary, and sorting all of it (129k ids for
  // DeepSeek-V3) costs milliseconds per token. Tokens within kHeadNats of the best (after
  // temperature) precede every other token in that order; when their share of the whole mass
  // reaches top_p, the top-p prefix lies among them and only they are sorted. A flat distribution
  // falls back to sorting everything.
  constexpr float kHeadNats = 16.f;
  float m = logits[0];
  for (int i = 1; i < vocab_; ++i) m = std::max(m, logits[i]);
  const float floor = m - kHeadNats / inv_t;
  double all = 0, head = 0;
  int k = 0;
  for (int i = 0; i < vocab_; ++i) {
    const double p = std::exp((logits[i] - m) * inv_t);
    all += p;
    if (logits[i] >= floor) {
      order_[k++] = i;
      head += p;
    }
  }
  *mass = all;
  // the margin keeps a prefix that reaches top_p only by rounding on the safe side of the fallback
  if (head >= p_.top_p * all * (1 + 1e-9)) {
    std::sort(order_.begin(), order_.begin() + k, by_logit_desc(logits));
    return k;
  }
  std::iota(order_.begin(), order_.end(), 0);
  std::sort(order_.begin(), order_.end(), by_logit_desc(logits));
  return vocab_;
}

int Sampler::sample(float* logits) {
  if (p_.repetition_penalty != 1.f) {
    for (int i = 0; i < vocab_; ++i) {
      if (!seen_[i]) continue;
      logits[i] = logits[i] > 0 ? logits[i] / p_.repetition_penalty : logits[i] * p_.repetition_penalty;
    }
  }
  if (p_.temperature <= 0.f) return greedy_argmax(logits, vocab_);
  // Candidates in descending logit order; only as many as top-k / top-p can need are sorted.
  const float inv_t = 1.f / p_.temperature;
  int n = vocab_;
  double mass = 0;  // what top_p is a share of: the mass of every candidate, not only the sorted ones
  if (p_.top_k > 0 && p_.top_k < vocab_) {
    n = p_.top_k;
    std::iota(order_.begin(), order_.end(), 0);
    std::partial_sort(order_.begin(), order_.begin() + n, order_.end(), by_logit_desc(logits));
  } else if (p_.top_p < 1.f) {
    n = sort_top_p_head(logits, inv_t, &mass);
  } else {
    std::iota(order_.begin(), order_.end(), 0);
  }
  float m = logits[order_[0]];
  for (int i = 1; i < n; ++i) m = std::max(m, logits[order_[i]]);
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    probs_[i] = std::exp((logits[order_[i]] - m) * inv_t);
    sum += probs_[i];
  }
  if (mass == 0) mass = sum;
  if (p_.top_p < 1.f) {
    // Smallest prefix whose mass reaches top_p (always at least one token).
    double cum = 0;
    int keep = n;
    for (int i = 0; i < n; ++i) {
      cum += probs_[i] / mass;
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
