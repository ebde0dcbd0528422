// MLA weight absorption (latent cache, absorbed query/output) must equal naive attention over
// K/V expanded from the latent with kv_b_proj, for one decode query over a cached prefix.
#include <cmath>

#include "check.h"
#include "kernels/attention.h"
#include "kernels/mla_absorb.h"
#include "test_util.h"

using namespace dse;

TEST(mla_absorbed_equals_naive_expanded) {
  const int64_t H = 3, nope = 6, P = 4, vd = 5, R = 7, n = 11;
  const float scale = 0.37f;
  auto kvb = testutil::random_vec(H * (nope + vd) * R, 1);  // [H*(nope+vd), R]
  auto cache = testutil::random_vec(n * (R + P), 2);        // rows [latent | k_pe]
  auto q = testutil::random_vec(H * (nope + P), 3);         // per head [q_nope | q_pe]

  // Naive: expand K_nope and V per head and token, attend with [k_nope | k_pe].
  std::vector<double> naive(H * vd, 0.0);
  for (int64_t h = 0; h < H; ++h) {
    std::vector<double> s(n);
    double m = -1e30;
    for (int64_t t = 0; t < n; ++t) {
      const float* c = &cache[t * (R + P)];
      double acc = 0;
      for (int64_t i = 0; i < nope; ++i) {
        double k = 0;
        for (int64_t r = 0; r < R; ++r) k += double(kvb[(h * (nope + vd) + i) * R + r]) * c[r];
        acc += q[h * (nope + P) + i] * k;
      }
      for (int64_t i = 0; i < P; ++i) acc += double(q[h * (nope + P) + nope + i]) * c[R + i];
      s[t] = acc * scale;
      m = std::max(m, s[t]);
    }
    double z = 0;
    for (auto& x : s) z += (x = std::exp(x - m));
    for (int64_t t = 0; t < n; ++t) {
      const float* c = &cache[t * (R + P)];
      for (int64_t j = 0; j < vd; ++j) {
        double v = 0;
        for (int64_t r = 0; r < R; ++r) v += double(kvb[(h * (nope + vd) + nope + j) * R + r]) * c[r];
        naive[h * vd + j] += s[t] / z * v;
      }
    }
  }

  // Absorbed, as the model runs it: per head absorb query, attend over latent rows, expand value.
  std::vector<float> qfull(R + P), lat(R), sc(n), out(H * vd);
  for (int64_t h = 0; h < H; ++h) {
    const float* w = &kvb[h * (nope + vd) * R];
    mla_absorb_query(w, 1, nope, vd, R, &q[h * (nope + P)], nope + P, qfull.data(), R + P);
    for (int64_t i = 0; i < P; ++i) qfull[R + i] = q[h * (nope + P) + nope + i];
    attention_head(qfull.data(), cache.data(), R + P, cache.data(), R + P, n, R + P, R, scale, sc.data(), lat.data());
    mla_expand_value(w, 1, nope, vd, R, lat.data(), R, &out[h * vd], vd);
  }
  for (int64_t i = 0; i < H * vd; ++i) CHECK_NEAR(out[i], naive[i], 1e-5);

  // All heads at once (strided form) agrees with the per-head calls.
  std::vector<float> qlat(H * R), all(H * vd), lats(H * R);
  mla_absorb_query(kvb.data(), H, nope, vd, R, q.data(), nope + P, qlat.data(), R);
  for (int64_t h = 0; h < H; ++h) {
    mla_absorb_query(&kvb[h * (nope + vd) * R], 1, nope, vd, R, &q[h * (nope + P)], nope + P, qfull.data(), R);
    for (int64_t r = 0; r < R; ++r) CHECK_NEAR(qlat[h * R + r], qfull[r], 1e-6);
  }
}

TEST_MAIN()
