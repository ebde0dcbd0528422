// The AMX kernels on the instruction model (portable C++, any CPU): what the tests run where the CPU
// has no AMX, and what set_amx_emulation routes the kAmx level to.
#include <atomic>
#include <vector>

#include "kernels/amx/amx_kernels.h"
#include "kernels/amx/amx_matmul.h"
#include "kernels/amx/amx_model.h"

namespace dse::detail {

namespace {
std::atomic<int64_t> model_calls{0};
}  // namespace
int64_t amx_model_calls() { return model_calls.load(); }

void matmul_q8_amx_model(const int8_t* w, const int8_t* xq, const float* xs, const int32_t* xsum, int64_t rows,
                         int64_t cols, int64_t r0, int64_t r1, int64_t t0, int64_t t1, float* y) {
  model_calls.fetch_add(1);
  thread_local amx::AmxModel tiles;
  amx::amx_q8_panels(tiles, reinterpret_cast<const uint8_t*>(w), xq, xs, xsum, rows, cols, r0, r1, t0, t1, y);
  tiles.release();
}

void matmul_bf16_amx_model(const uint16_t* w, const uint16_t* xb, int64_t rows, int64_t cols, int64_t r0,
                           int64_t r1, int64_t t0, int64_t t1, float* y) {
  model_calls.fetch_add(1);
  thread_local amx::AmxModel tiles;
  thread_local std::vector<uint16_t> packed;
  amx::amx_bf16_rows(tiles, w, xb, rows, cols, r0, r1, t0, t1, y, packed, amx::pack_bf16_panel);
  tiles.release();
}

}  // namespace dse::detail
