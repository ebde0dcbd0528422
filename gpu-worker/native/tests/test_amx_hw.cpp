// The AMX kernels on the tiles themselves (AmxHw), for AMX hosts: exits 77 ("skipped", as the CUDA
// tests do without a device) where amx_status() is not "available". Against the reference, the VNNI
// kernel (int8, bit for bit) and the avx512dot kernel on the odd shapes of amx_cases.h; against the
// instruction model (int8 bit for bit; bf16: how many outputs match it bit for bit is printed, the
// SDM's order of the sums being the model's guess); and the kAmx level through matmul on the pool.
#include <cstdio>

#include "amx_cases.h"
#include "common/thread_pool.h"

using namespace dse;

TEST(hw_q8_kernel_matches_reference_and_vnni) { amxcases::check_q8(detail::matmul_q8_amx, amxcases::q8vnni); }
TEST(hw_q8_kernel_matches_model) { amxcases::check_q8(detail::matmul_q8_amx, detail::matmul_q8_amx_model); }
TEST(hw_bf16_kernel_matches_reference_and_avx512dot) {
  amxcases::check_bf16(detail::matmul_bf16_amx, amxcases::bf16dot);
}

TEST(hw_bf16_kernel_against_model) {
  amxcases::check_bf16(detail::matmul_bf16_amx, detail::matmul_bf16_amx_model);
  const int64_t T = 37, cols = 1536, rows = 129;
  auto wf = testutil::random_vec(static_cast<size_t>(rows * cols), 1), x = testutil::random_vec(static_cast<size_t>(T * cols), 2);
  std::vector<uint16_t> w, xb;
  for (float f : wf) w.push_back(f32_to_bf16(f));
  for (float f : x) xb.push_back(f32_to_bf16(f));
  std::vector<float> h(static_cast<size_t>(T * rows)), m(h.size());
  detail::matmul_bf16_amx(w.data(), xb.data(), rows, cols, 0, rows, 0, T, h.data());
  detail::matmul_bf16_amx_model(w.data(), xb.data(), rows, cols, 0, rows, 0, T, m.data());
  size_t same = 0;
  double worst = 0;
  for (size_t i = 0; i < h.size(); ++i) {
    same += std::memcmp(&h[i], &m[i], 4) == 0;
    worst = std::max(worst, std::fabs(static_cast<double>(h[i]) - m[i]));
  }
  std::printf("  bf16 %lldx%lld, %lld tokens: %zu of %zu outputs equal the model's bit for bit, worst difference %.3g\n",
              static_cast<long long>(rows), static_cast<long long>(cols), static_cast<long long>(T), same, h.size(), worst);
}

TEST(hw_amx_level_through_matmul) {
  ThreadPool pool(4);
  for (int f = 0; f < 2; ++f) {
    const int64_t T = 37, cols = 1536, rows = 300;
    auto wf = testutil::random_vec(static_cast<size_t>(rows * cols), static_cast<uint32_t>(7 + f));
    Weight w;
    w.format = f == 0 ? WFormat::kBF16 : WFormat::kI8, w.rows = rows, w.cols = cols;
    if (f == 0) {
      for (float v : wf) w.bf16.push_back(f32_to_bf16(v));
    } else {
      w.i8.resize(wf.size());
      w.scale.resize(static_cast<size_t>(rows * q8_blocks(cols)));
      quantize_rows_i8(wf.data(), rows, cols, w.i8.data(), w.scale.data());
      pack_q8_panels(w);
    }
    auto x = testutil::random_vec(static_cast<size_t>(T * cols), 3);
    auto bias = testutil::random_vec(static_cast<size_t>(rows), 4);
    std::vector<float> ya(static_cast<size_t>(T * rows)), yd(ya.size());
    set_simd_level(SimdLevel::kAmx);
    CHECK(simd_level() == SimdLevel::kAmx);
    matmul(w, x.data(), T, ya.data(), bias.data(), &pool);
    set_simd_level(SimdLevel::kAvx512Dot);
    matmul(w, x.data(), T, yd.data(), bias.data(), &pool);
    for (size_t i = 0; i < ya.size(); ++i) {
      if (f == 1 && std::memcmp(&ya[i], &yd[i], 4) != 0) FAILMSG("int8 at " << i << ": " << ya[i] << " vs " << yd[i]);
      CHECK_NEAR(ya[i], yd[i], amxcases::tol(cols));
    }
  }
  set_simd_level(simd_available());
}

int main(int argc, char** argv) {
  if (!amx_available()) {
    std::printf("skipped: AMX unavailable (%s)\n", amx_status());
    return 77;
  }
  return check::run_all(argc, argv);
}
