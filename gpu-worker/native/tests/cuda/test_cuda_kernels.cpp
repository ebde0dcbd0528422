// Every CUDA kernel against its CPU reference (the core kernels) on odd, strided shapes.
// Tolerances: fp32 kernels differ from the references only in summation order, so they are checked
// at a few fp32 ulps of the magnitude summed (1e-5 relative to sum |terms|); the bf16 matmul uses the
// same bf16 weights on both sides, so it is held to the same fp32 bound. Skips (exit 77) without a GPU.
#include <algorithm>
#include <numeric>
#include <random>

#include "../check.h"
#include "../test_util.h"
#include "cuda/embed.cuh"
#include "cuda/gather_rows.cuh"
#include "cuda/matmul.cuh"
#include "cuda/mla_absorb.cuh"
#include "cuda/moe_combine.cuh"
#include "cuda/paged_attention.cuh"
#include "cuda/paged_kv.cuh"
#include "cuda/rmsnorm.cuh"
#include "cuda/rope.cuh"
#include "cuda/silu_mul.cuh"
#include "cuda_test_util.h"
#include "kernels/attention.h"
#include "kernels/matmul.h"
#include "kernels/mla_absorb.h"
#include "kernels/rmsnorm.h"
#include "kernels/rope.h"
#include "kernels/silu_mul.h"

using namespace dse;
using cudatest::to_device;
using cudatest::to_host;

namespace {

std::vector<uint16_t> to_bf16(const std::vector<float>& v) {
  std::vector<uint16_t> o(v.size());
  for (size_t i = 0; i < v.size(); ++i) o[i] = f32_to_bf16(v[i]);
  return o;
}

}  // namespace

TEST(rmsnorm_strided) {
  for (auto [rows, n, ldx, ldy] : std::vector<std::array<int64_t, 4>>{{1, 1, 1, 1}, {7, 333, 340, 337}, {3, 4096, 4096, 4100}}) {
    auto x = testutil::random_vec(size_t(rows * ldx), 1, 3.f);
    auto w = testutil::random_vec(size_t(n), 2);
    std::vector<float> ref(size_t(rows * ldy), 0.f);
    rmsnorm(x.data(), ldx, w.data(), rows, n, 1e-6f, ref.data(), ldy);
    auto dx = to_device(x), dw = to_device(w);
    auto dy = to_device(std::vector<float>(size_t(rows * ldy), 0.f));
    cuda::rmsnorm(dx.get(), ldx, dw.get(), rows, n, 1e-6f, dy.get(), ldy, nullptr);
    auto got = to_host(dy);
    for (size_t i = 0; i < got.size(); ++i) CHECK_NEAR(got[i], ref[i], 1e-5 * (1 + std::fabs(ref[i])));
    // In place.
    cuda::rmsnorm(dx.get(), ldx, dw.get(), rows, n, 1e-6f, dx.get(), ldx, nullptr);
    auto inpl = to_host(dx);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < n; ++i) CHECK_NEAR(inpl[r * ldx + i], ref[r * ldy + i], 1e-5 * (1 + std::fabs(ref[r * ldy + i])));
  }
}

TEST(silu_mul_strided) {
  const int64_t rows = 5, n = 1001, ldg = 1003, ldu = 1010, ldo = 1001;
  auto g = testutil::random_vec(size_t(rows * ldg), 3, 4.f), u = testutil::random_vec(size_t(rows * ldu), 4);
  std::vector<float> ref(size_t(rows * ldo));
  silu_mul(g.data(), ldg, u.data(), ldu, rows, n, ref.data(), ldo);
  auto dg = to_device(g), du = to_device(u);
  auto dout = to_device(std::vector<float>(size_t(rows * ldo)));
  cuda::silu_mul(dg.get(), ldg, du.get(), ldu, rows, n, dout.get(), ldo, nullptr);
  auto got = to_host(dout);
  for (size_t i = 0; i < got.size(); ++i) CHECK_NEAR(got[i], ref[i], 1e-5 * (1 + std::fabs(ref[i])));
}

TEST(matmul_paths_odd_shapes) {
  struct Shape {
    int64_t rows, cols, T, ldx;
  };
  const std::vector<Shape> shapes = {{1, 1, 1, 1},       {37, 131, 1, 131},    {130, 256, 3, 260}, {257, 1000, 8, 1000},
                                     {64, 64, 9, 64},    {129, 77, 65, 80},    {300, 1024, 130, 1024},
                                     {1000, 1536, 1, 1536}, {33, 8, 17, 8}};
  uint32_t seed = 10;
  for (const Shape& s : shapes) {
    Weight w;
    w.format = WFormat::kBF16;
    w.rows = s.rows;
    w.cols = s.cols;
    {
      const auto b = to_bf16(testutil::random_vec(size_t(s.rows * s.cols), seed++));
      w.bf16.assign(b.begin(), b.end());
    }
    auto x = testutil::random_vec(size_t(s.T * s.ldx), seed++);
    auto bias = testutil::random_vec(size_t(s.rows), seed++);
    // Dense copy of x for the reference (which takes contiguous rows).
    std::vector<float> xc(size_t(s.T * s.cols));
    for (int64_t t = 0; t < s.T; ++t) std::copy_n(x.data() + t * s.ldx, s.cols, xc.data() + t * s.cols);
    std::vector<float> ref(size_t(s.T * s.rows));
    matmul_reference(w, xc.data(), s.T, ref.data(), bias.data());
    std::vector<double> mag(ref.size(), 0.0);  // sum |w x| per output: the scale of rounding error
    for (int64_t t = 0; t < s.T; ++t)
      for (int64_t o = 0; o < s.rows; ++o)
        for (int64_t i = 0; i < s.cols; ++i)
          mag[size_t(t * s.rows + o)] += std::fabs(double(bf16_to_f32(w.bf16[size_t(o * s.cols + i)])) * xc[size_t(t * s.cols + i)]);
    auto dw = to_device(w.bf16);
    auto dx = to_device(x), db = to_device(bias);
    const int64_t ldy = s.rows + 3;
    for (auto path : {cuda::MatmulPath::kGemv, cuda::MatmulPath::kTiled, cuda::MatmulPath::kAuto}) {
      for (bool acc : {false, true}) {
        std::vector<float> init(size_t(s.T * ldy), 0.5f);
        auto dy = to_device(init);
        cuda::matmul_bf16(dw.get(), s.rows, s.cols, dx.get(), s.ldx, s.T, dy.get(), ldy, db.get(), acc, nullptr, path);
        auto got = to_host(dy);
        for (int64_t t = 0; t < s.T; ++t) {
          for (int64_t o = 0; o < s.rows; ++o) {
            const double want = ref[size_t(t * s.rows + o)] + (acc ? 0.5 : 0.0);
            const double tol = 1e-5 * (mag[size_t(t * s.rows + o)] + std::fabs(bias[size_t(o)]) + 1.0);
            CHECK_NEAR(got[size_t(t * ldy + o)], want, tol);
          }
          for (int64_t o = s.rows; o < ldy; ++o) CHECK_EQ(got[size_t(t * ldy + o)], 0.5f);  // padding untouched
        }
      }
    }
  }
}

TEST(rope_both_layouts) {
  RopeConfig yarn;
  yarn.type = "yarn";
  yarn.factor = 4;
  yarn.original_max_position = 512;
  yarn.mscale = 1;
  yarn.mscale_all_dim = 1;
  RopeConfig def;
  def.theta = 500000;
  for (const RopeConfig& rc : {def, yarn}) {
    for (bool interleaved : {false, true}) {
      const int dim = 64;
      const int64_t T = 5, heads = 3, stride = 70, ld = 250;
      RopeTable rt = make_rope_table(rc, dim, 4096);
      std::vector<int32_t> pos = {0, 1, 17, 999, 4095};
      auto x = testutil::random_vec(size_t(T * ld), 20);
      auto ref = x;
      for (int64_t t = 0; t < T; ++t) apply_rope(rt, ref.data() + t * ld, heads, stride, pos[size_t(t)], interleaved);
      auto dx = to_device(x);
      auto dpos = to_device(pos);
      auto dfreq = to_device(rt.inv_freq);
      cuda::rope(dx.get(), ld, T, heads, stride, dpos.get(), dfreq.get(), dim, rt.attention_factor, interleaved, nullptr);
      auto got = to_host(dx);
      for (size_t i = 0; i < got.size(); ++i) CHECK_NEAR(got[i], ref[i], 1e-5 * (1 + std::fabs(ref[i])));
    }
  }
}

TEST(embed_and_gather) {
  const int64_t vocab = 101, H = 77;
  auto table = to_bf16(testutil::random_vec(size_t(vocab * H), 30));
  std::vector<int32_t> tok = {0, 100, 5, 5, 42};
  const int64_t T = int64_t(tok.size()), ldx = 80;
  auto dt = to_device(table);
  auto dtok = to_device(tok);
  auto dx = to_device(std::vector<float>(size_t(T * ldx), 0.f));
  cuda::embed_rows(dt.get(), H, dtok.get(), T, dx.get(), ldx, nullptr);
  auto x = to_host(dx);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t c = 0; c < H; ++c) CHECK_EQ(x[size_t(t * ldx + c)], bf16_to_f32(table[size_t(tok[size_t(t)] * H + c)]));
  std::vector<int32_t> idx = {4, 0, 2};
  auto didx = to_device(idx);
  auto dout = to_device(std::vector<float>(size_t(3 * H), 0.f));
  cuda::gather_rows(dx.get(), ldx, didx.get(), 3, H, dout.get(), H, nullptr);
  auto out = to_host(dout);
  for (int64_t r = 0; r < 3; ++r)
    for (int64_t c = 0; c < H; ++c) CHECK_EQ(out[size_t(r * H + c)], x[size_t(idx[size_t(r)] * ldx + c)]);
}

// Paged attention against attention_head over the same rows laid out contiguously. The block table
// is shuffled so logical and physical order differ, and contexts cross chunk (128) and block edges.
static void check_paged_attention(int heads, int group, int d, int dv, int64_t kv_head_stride, int64_t k_col,
                                  int64_t v_col, int64_t width, const std::vector<int>& seq_len) {
  const int bs = 16;
  const int S = int(seq_len.size());
  int max_blocks = 0, total_blocks = 0;
  for (int n : seq_len) {
    max_blocks = std::max(max_blocks, (n + bs - 1) / bs);
    total_blocks += (n + bs - 1) / bs;
  }
  total_blocks += 3;  // unused blocks too
  std::vector<int32_t> perm(static_cast<size_t>(total_blocks));
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), std::mt19937(5));
  std::vector<int32_t> tables(size_t(S * max_blocks), -1);
  int next = 0;
  for (int s = 0; s < S; ++s)
    for (int b = 0; b < (seq_len[size_t(s)] + bs - 1) / bs; ++b) tables[size_t(s * max_blocks + b)] = perm[size_t(next++)];
  // Per-sequence contiguous rows [n, width] and their scatter into the paged cache.
  std::vector<std::vector<float>> rows(static_cast<size_t>(S));
  auto cache = testutil::random_vec(size_t(total_blocks * bs * width), 99);  // garbage outside written rows
  std::vector<float> all_rows;
  std::vector<int32_t> row_index;
  for (int s = 0; s < S; ++s) {
    rows[size_t(s)] = testutil::random_vec(size_t(seq_len[size_t(s)] * width), 100 + s);
    for (int p = 0; p < seq_len[size_t(s)]; ++p) {
      row_index.push_back(tables[size_t(s * max_blocks + p / bs)] * bs + p % bs);
      all_rows.insert(all_rows.end(), rows[size_t(s)].begin() + p * width, rows[size_t(s)].begin() + (p + 1) * width);
    }
  }
  auto dcache = to_device(cache);
  auto drows = to_device(all_rows);
  auto dri = to_device(row_index);
  // Scatter in two column halves to exercise col offsets.
  const int64_t half = width / 2;
  cuda::kv_scatter(drows.get(), width, int64_t(row_index.size()), half, dri.get(), dcache.get(), width, 0, nullptr);
  cuda::kv_scatter(drows.get() + half, width, int64_t(row_index.size()), width - half, dri.get(), dcache.get(), width,
                   half, nullptr);
  // Queries: for each sequence, rows at a few positions (last, middle, first).
  std::vector<int32_t> n_ctx, row_seq;
  for (int s = 0; s < S; ++s)
    for (int n : {seq_len[size_t(s)], (seq_len[size_t(s)] + 1) / 2, 1}) {
      n_ctx.push_back(n);
      row_seq.push_back(s);
    }
  const int64_t T = int64_t(n_ctx.size()), ldq = int64_t(heads) * d + 5, ldo = int64_t(heads) * dv + 3;
  auto q = testutil::random_vec(size_t(T * ldq), 7);
  auto dq = to_device(q);
  auto dn = to_device(n_ctx), drs = to_device(row_seq), dtab = to_device(tables);
  auto dout = to_device(std::vector<float>(size_t(T * ldo), 0.f));
  cuda::PagedAttnArgs a{};
  a.q = dq.get();
  a.ldq = ldq;
  a.q_head_stride = d;
  a.cache = dcache.get();
  a.width = width;
  a.k_col = k_col;
  a.v_col = v_col;
  a.kv_head_stride = kv_head_stride;
  a.heads = heads;
  a.group = group;
  a.d = d;
  a.dv = dv;
  a.scale = 1.f / std::sqrt(float(d));
  a.n_ctx = dn.get();
  a.row_seq = drs.get();
  a.tables = dtab.get();
  a.max_blocks = max_blocks;
  a.block_size = bs;
  a.out = dout.get();
  a.ldo = ldo;
  a.T = T;
  cuda::paged_attention(a, nullptr);
  auto got = to_host(dout);
  std::vector<float> scores(4096), ref(static_cast<size_t>(dv));
  for (int64_t t = 0; t < T; ++t) {
    const auto& r = rows[size_t(row_seq[size_t(t)])];
    for (int h = 0; h < heads; ++h) {
      const int64_t kvh = h / group;
      attention_head(q.data() + t * ldq + int64_t(h) * d, r.data() + k_col + kvh * kv_head_stride, width,
                     r.data() + v_col + kvh * kv_head_stride, width, n_ctx[size_t(t)], d, dv, a.scale, scores.data(),
                     ref.data());
      for (int i = 0; i < dv; ++i) CHECK_NEAR(got[size_t(t * ldo + int64_t(h) * dv + i)], ref[size_t(i)], 2e-5);
    }
  }
}

TEST(paged_attention_gqa) {
  // 4 query heads over 2 kv heads, head dim 64: cache row [K0 K1 | V0 V1].
  check_paged_attention(4, 2, 64, 64, 64, 0, 128, 256, {1, 17, 130, 300});
}

TEST(paged_attention_mla_shared_latent) {
  // Absorbed MLA: every head reads one shared [latent 96 | k_pe 32] row, values = the latent.
  check_paged_attention(5, 5, 128, 96, 0, 0, 0, 128, {3, 129, 257});
}

TEST(paged_attention_odd_dims) {
  check_paged_attention(3, 1, 37, 53, 0, 0, 37, 90, {2, 16, 33});
}

TEST(mla_absorb_query_and_value) {
  // Odd sizes: 3 heads, nope 13, rope 6, v 11, latent rank 37, 4 tokens.
  const int64_t T = 4, nh = 3, nope = 13, P = 6, vd = 11, R = 37, qk = nope + P, w = R + P;
  auto kvb = testutil::random_vec(size_t(nh * (nope + vd) * R), 40);
  auto q = testutil::random_vec(size_t(T * nh * qk), 41);
  auto lat = testutil::random_vec(size_t(T * nh * R), 42);
  std::vector<float> ref_q(size_t(T * nh * w)), ref_o(size_t(T * nh * vd));
  for (int64_t t = 0; t < T; ++t) {
    mla_absorb_query(kvb.data(), nh, nope, vd, R, q.data() + t * nh * qk, qk, ref_q.data() + t * nh * w, w);
    for (int64_t h = 0; h < nh; ++h)
      for (int64_t p = 0; p < P; ++p) ref_q[size_t((t * nh + h) * w + R + p)] = q[size_t((t * nh + h) * qk + nope + p)];
    mla_expand_value(kvb.data(), nh, nope, vd, R, lat.data() + t * nh * R, R, ref_o.data() + t * nh * vd, vd);
  }
  auto dkvb = to_device(kvb), dq = to_device(q), dlat = to_device(lat);
  auto dqa = to_device(std::vector<float>(ref_q.size(), 0.f)), dout = to_device(std::vector<float>(ref_o.size(), 0.f));
  cuda::mla_absorb_query(dkvb.get(), T, nh, nope, P, vd, R, dq.get(), dqa.get(), nullptr);
  cuda::mla_expand_value(dkvb.get(), T, nh, nope, vd, R, dlat.get(), dout.get(), nullptr);
  auto gq = to_host(dqa), go = to_host(dout);
  for (size_t i = 0; i < gq.size(); ++i) CHECK_NEAR(gq[i], ref_q[i], 1e-5 * (std::sqrt(double(nope)) + 1));
  for (size_t i = 0; i < go.size(); ++i) CHECK_NEAR(go[i], ref_o[i], 1e-5 * (std::sqrt(double(R)) + 1));
}

TEST(moe_combine_weighted_rows) {
  const int64_t T = 5, K = 3, H = 19, ldx = 23;
  auto x = testutil::random_vec(size_t(T * ldx), 50);
  auto eo = testutil::random_vec(size_t(T * K * H), 51);
  auto w = testutil::random_vec(size_t(T * K), 52);
  std::vector<int32_t> slot(size_t(T * K));
  std::iota(slot.begin(), slot.end(), 0);
  std::shuffle(slot.begin(), slot.end(), std::mt19937(3));
  auto ref = x;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t j = 0; j < H; ++j) {
      float s = 0.f;
      for (int64_t k = 0; k < K; ++k) s += w[size_t(t * K + k)] * eo[size_t(slot[size_t(t * K + k)] * H + j)];
      ref[size_t(t * ldx + j)] += s;
    }
  auto dx = to_device(x), deo = to_device(eo), dw = to_device(w);
  auto ds = to_device(slot);
  cuda::moe_combine(dx.get(), ldx, T, K, H, dw.get(), ds.get(), deo.get(), nullptr);
  auto got = to_host(dx);
  for (size_t i = 0; i < got.size(); ++i) CHECK_NEAR(got[i], ref[i], 1e-5);
}

int main(int argc, char** argv) {
  if (cudatest::skip_without_device()) return cudatest::kSkip;
  return check::run_all(argc, argv);
}
