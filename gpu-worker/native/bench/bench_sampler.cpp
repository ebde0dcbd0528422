// Sampler benchmark (not a test): time per pick on a DeepSeek-V3-sized vocabulary (129,280 ids) for
// greedy, plain temperature, top-k and top-p, against the peer that top-p used to be: a sort of the
// whole vocabulary per pick. The engine samples on the host for every sequence of every step, so
// these microseconds add to each decoded token.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <vector>

#include "engine/sampler.h"

using namespace dse;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kVocab = 129280;
constexpr int kPicks = 300;

// Logits shaped like a language model's: a Gaussian bulk and a handful of strong candidates.
std::vector<std::vector<float>> distributions() {
  std::mt19937 rng(7);
  std::normal_distribution<float> bulk(0.f, 2.f);
  std::vector<std::vector<float>> out(16, std::vector<float>(kVocab));
  for (auto& l : out) {
    for (auto& v : l) v = bulk(rng);
    for (int j = 0; j < 20; ++j) l[rng() % kVocab] = 12.f + static_cast<float>(j % 5);
  }
  return out;
}

double micros_per_pick(const SamplingParams& p, const std::vector<std::vector<float>>& dists) {
  Sampler s(p, kVocab);
  std::vector<float> scratch(kVocab);
  int sink = 0;
  auto t0 = Clock::now();
  for (int i = 0; i < kPicks; ++i) {
    const auto& l = dists[i % dists.size()];
    std::copy(l.begin(), l.end(), scratch.begin());
    sink += s.sample(scratch.data());
  }
  const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / kPicks;
  if (sink == -1) std::printf("?");
  return us;
}

// The peer: what top-p cost before, a full sort of the vocabulary by logit per pick (plus the copy).
double micros_full_sort(const std::vector<std::vector<float>>& dists) {
  std::vector<float> scratch(kVocab);
  std::vector<int> order(kVocab);
  long sink = 0;
  auto t0 = Clock::now();
  for (int i = 0; i < kPicks; ++i) {
    const auto& l = dists[i % dists.size()];
    std::copy(l.begin(), l.end(), scratch.begin());
    std::iota(order.begin(), order.end(), 0);
    const float* lg = scratch.data();
    std::sort(order.begin(), order.end(),
              [lg](int a, int b) { return lg[a] > lg[b] || (lg[a] == lg[b] && a < b); });
    sink += order[0];
  }
  const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / kPicks;
  if (sink == -1) std::printf("?");
  return us;
}

}  // namespace

int main() {
  const auto dists = distributions();
  SamplingParams greedy;
  SamplingParams plain;
  plain.temperature = 0.7f;
  SamplingParams top_k = plain;
  top_k.top_k = 40;
  SamplingParams top_p = plain;
  top_p.top_p = 0.95f;
  SamplingParams both = top_p;
  both.top_k = 40;
  std::printf("sampler bench: vocabulary %d, %d picks each, one thread\n", kVocab, kPicks);
  const double g = micros_per_pick(greedy, dists);
  const double t = micros_per_pick(plain, dists);
  const double k = micros_per_pick(top_k, dists);
  const double p = micros_per_pick(top_p, dists);
  const double pk = micros_per_pick(both, dists);
  const double sort = micros_full_sort(dists);
  std::printf("greedy:                         %8.1f us per pick\n", g);
  std::printf("temperature 0.7:                %8.1f us per pick\n", t);
  std::printf("temperature 0.7, top_k 40:      %8.1f us per pick\n", k);
  std::printf("temperature 0.7, top_p 0.95:    %8.1f us per pick\n", p);
  std::printf("top_k 40 and top_p 0.95:        %8.1f us per pick\n", pk);
  std::printf("peer, full-vocabulary sort:     %8.1f us per pick (what top_p cost before)\n", sort);
  std::printf("top_p 0.95 vs the full sort:    %8.1fx faster\n", sort / p);
  return 0;
}
