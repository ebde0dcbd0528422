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
    amxcases::check_amx_level(amxcases::random_weight(f == 1, 300, 1536, static_cast<uint32_t>(7 + f)), 37, pool, 3);
  }
}

int main(int argc, char** argv) {
  if (!amx_available()) {
    std::printf("skipped: AMX unavailable (%s)\n", amx_status());
    return 77;
  }
  return check::run_all(argc, argv);
}
