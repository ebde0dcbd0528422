#include "kernels/moe_route.h"

#include <cmath>
#include <limits>

namespace dse {

namespace {

// Index of the largest value not yet taken (ties resolve to the lowest index, as torch.topk does on CPU).
int argmax_excluding(const float* v, int n, const bool* taken) {
  int best = -1;
  for (int i = 0; i < n; ++i) {
    if (taken && taken[i]) continue;
    if (best < 0 || v[i] > v[best]) best = i;
  }
  return best;
}

}  // namespace

void moe_route(const float* logits, const float* bias, const RouterParams& p, float* scratch, int* idx,
               float* weight) {
  const int n = p.n_experts;
  float* scores = scratch;          // [n] unbiased scores
  float* choice = scratch + n;      // [n] scores used for selection
  float* group_score = scratch + 2 * n;  // [n_group]
  if (p.sigmoid) {
    for (int i = 0; i < n; ++i) scores[i] = 1.f / (1.f + std::exp(-logits[i]));
  } else {
    float m = logits[0];
    for (int i = 1; i < n; ++i) m = std::max(m, logits[i]);
    double sum = 0;
    for (int i = 0; i < n; ++i) {
      scores[i] = std::exp(logits[i] - m);
      sum += scores[i];
    }
    for (int i = 0; i < n; ++i) scores[i] = static_cast<float>(scores[i] / sum);
  }
  for (int i = 0; i < n; ++i) choice[i] = scores[i] + (bias ? bias[i] : 0.f);

  if (p.method != "greedy" && p.n_group > 1) {
    const int per = n / p.n_group;
    for (int g = 0; g < p.n_group; ++g) {
      const float* c = choice + g * per;
      if (p.method == "noaux_tc") {
        // Sum of the two best biased scores in the group.
        int a = 0;
        for (int i = 1; i < per; ++i)
          if (c[i] > c[a]) a = i;
        float second = -std::numeric_limits<float>::infinity();
        for (int i = 0; i < per; ++i)
          if (i != a && c[i] > second) second = c[i];
        group_score[g] = per > 1 ? c[a] + second : c[a];
      } else {
        float m = c[0];
        for (int i = 1; i < per; ++i) m = std::max(m, c[i]);
        group_score[g] = m;
      }
    }
    bool keep[256] = {false};
    bool taken[256] = {false};
    for (int k = 0; k < p.topk_group; ++k) {
      int g = argmax_excluding(group_score, p.n_group, taken);
      taken[g] = true;
      keep[g] = true;
    }
    for (int g = 0; g < p.n_group; ++g)
      if (!keep[g])
        for (int i = 0; i < per; ++i) choice[g * per + i] = -std::numeric_limits<float>::infinity();
  }

  bool chosen[1024] = {false};
  float sum = 0.f;
  for (int k = 0; k < p.top_k; ++k) {
    int e = argmax_excluding(choice, n, chosen);
    chosen[e] = true;
    idx[k] = e;
    weight[k] = scores[e];
    sum += scores[e];
  }
  if (p.norm_topk_prob) {
    for (int k = 0; k < p.top_k; ++k) weight[k] /= (sum + 1e-20f);
  }
  for (int k = 0; k < p.top_k; ++k) weight[k] *= p.routed_scaling_factor;
}

}  // namespace dse
