#include "kernels/amx/amx_model.h"

#include <cmath>
#include <cstring>
#include <string>

#include "common/error.h"

namespace dse::amx {

namespace {
[[noreturn]] void fault(const char* kind, const std::string& what) {
  fail(ErrorKind::kInternal, std::string("amx model: ") + kind + ": " + what);
}
}  // namespace

float amx_ftz(float f) { return std::fpclassify(f) == FP_SUBNORMAL ? std::copysign(0.f, f) : f; }

float amx_make_fp32(uint16_t bf16) {
  const uint32_t bits = static_cast<uint32_t>(bf16) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return amx_ftz(f);  // DAZ on the inputs
}

// LDTILECFG: palette 0 releases; palette 1 checks each tile's shape (#GP otherwise) and zeroes
// every tile.
void AmxModel::config(const TileConfig& cfg) {
  if (cfg.palette_id == 0) return release();
  if (cfg.palette_id != 1) fault("#GP", "palette " + std::to_string(cfg.palette_id) + " not supported");
  for (uint8_t b : cfg.reserved)
    if (b != 0) fault("#GP", "reserved bytes of the config are not zero");
  if (cfg.start_row != 0) fault("#GP", "start_row is not modelled (must be 0)");
  for (int t = 0; t < 16; ++t) {
    const int rows = cfg.rows[t], colsb = cfg.colsb[t];
    if (t >= kTiles && (rows || colsb)) fault("#GP", "tile " + std::to_string(t) + " does not exist in palette 1");
    if (rows > kMaxRows || colsb > kMaxColsb)
      fault("#GP", "tile " + std::to_string(t) + " is " + std::to_string(rows) + " x " + std::to_string(colsb) +
                       " bytes, above 16 x 64");
    if ((rows == 0) != (colsb == 0)) fault("#GP", "tile " + std::to_string(t) + " has rows or colsb zero, not both");
  }
  cfg_ = cfg;
  configured_ = true;
  std::memset(data_, 0, sizeof(data_));
}

void AmxModel::release() {
  cfg_ = TileConfig{};
  cfg_.palette_id = 0;
  configured_ = false;
  std::memset(data_, 0, sizeof(data_));
}

void AmxModel::need(int t, const char* insn) const {
  if (!configured_) fault("#UD", std::string(insn) + " without a tile configuration");
  if (t < 0 || t >= kTiles || cfg_.rows[t] == 0) fault("#UD", std::string(insn) + " on unconfigured tile " + std::to_string(t));
}

void AmxModel::need_distinct(int c, int a, int b, const char* insn) const {
  need(c, insn), need(a, insn), need(b, insn);
  if (c == a || c == b || a == b) fault("#UD", std::string(insn) + " with tiles not distinct");
}

void AmxModel::finish_rows(int t) {
  for (int r = cfg_.rows[t]; r < kMaxRows; ++r) std::memset(data_[t][r], 0, kMaxColsb);
}

void AmxModel::zero_tile(int t) {
  need(t, "tilezero");
  std::memset(data_[t], 0, sizeof(data_[t]));
}

// TILELOADD: row r from base + r * stride, colsb bytes; the rest of each row and the rows past the
// configured count are zero (write_row_and_zero, zero_upper_rows).
void AmxModel::load_tile(int t, const void* base, int64_t stride) {
  need(t, "tileloadd");
  const auto* p = static_cast<const uint8_t*>(base);
  for (int r = 0; r < cfg_.rows[t]; ++r) {
    std::memcpy(data_[t][r], p + r * stride, cfg_.colsb[t]);
    std::memset(data_[t][r] + cfg_.colsb[t], 0, kMaxColsb - cfg_.colsb[t]);
  }
  finish_rows(t);
  ++loads_;
}

// TILESTORED: the configured rows x colsb bytes, nothing else.
void AmxModel::store_tile(int t, void* base, int64_t stride) const {
  need(t, "tilestored");
  auto* p = static_cast<uint8_t*>(base);
  for (int r = 0; r < cfg_.rows[t]; ++r) std::memcpy(p + r * stride, data_[t][r], cfg_.colsb[t]);
}

namespace {
// The operand shapes every tile dot product requires (#UD otherwise): C is M x N*4 bytes, A is
// M x K*4 bytes, B is K rows x N*4 bytes.
void check_shapes(const TileConfig& cfg, int c, int a, int b, const char* insn) {
  if (cfg.rows[c] != cfg.rows[a]) fault("#UD", std::string(insn) + ": C and A rows differ");
  if (cfg.colsb[a] / 4 != cfg.rows[b] || cfg.colsb[a] % 4) fault("#UD", std::string(insn) + ": A colsb / 4 != B rows");
  if (cfg.colsb[c] != cfg.colsb[b] || cfg.colsb[c] % 4) fault("#UD", std::string(insn) + ": C and B colsb differ");
}
int32_t ext(uint8_t v, bool is_signed) { return is_signed ? static_cast<int32_t>(static_cast<int8_t>(v)) : v; }
}  // namespace

// TDPB[SU][SU]D: C.dword[m][n] += sum over K-groups k of the 4 byte products A[m][4k+j] * B[k][4n+j]
// (int32, wrapping).
void AmxModel::dp_int8(int c, int a, int b, bool a_signed, bool b_signed) {
  const char* insn = a_signed ? (b_signed ? "tdpbssd" : "tdpbsud") : (b_signed ? "tdpbusd" : "tdpbuud");
  need_distinct(c, a, b, insn);
  check_shapes(cfg_, c, a, b, insn);
  const int M = cfg_.rows[c], N = cfg_.colsb[c] / 4, K = cfg_.colsb[a] / 4;
  for (int m = 0; m < M; ++m) {
    for (int n = 0; n < N; ++n) {
      uint32_t acc;
      std::memcpy(&acc, data_[c][m] + 4 * n, 4);
      for (int k = 0; k < K; ++k) {
        int32_t s = 0;  // the four products fit in 17 bits each: no overflow before the add
        for (int j = 0; j < 4; ++j) s += ext(data_[a][m][4 * k + j], a_signed) * ext(data_[b][k][4 * n + j], b_signed);
        acc += static_cast<uint32_t>(s);
      }
      std::memcpy(data_[c][m] + 4 * n, &acc, 4);
    }
    std::memset(data_[c][m] + cfg_.colsb[c], 0, kMaxColsb - cfg_.colsb[c]);
  }
  finish_rows(c);
}

// TDPBF16PS, after the SDM's pseudo-code: per row, two fp32 partial sums per output (the even and
// the odd bf16 of each pair) accumulated over K by FMAs with DAZ, FTZ and round-to-nearest-even
// (MXCSR neither read nor written), then their sum added to C, also with FTZ.
void AmxModel::dp_bf16(int c, int a, int b) {
  need_distinct(c, a, b, "tdpbf16ps");
  check_shapes(cfg_, c, a, b, "tdpbf16ps");
  const int M = cfg_.rows[c], N = cfg_.colsb[c] / 4, K = cfg_.colsb[a] / 4;
  auto bf = [&](int t, int row, int i) {
    uint16_t v;
    std::memcpy(&v, data_[t][row] + 2 * i, 2);
    return amx_make_fp32(v);
  };
  for (int m = 0; m < M; ++m) {
    float even[kMaxColsb / 4] = {}, odd[kMaxColsb / 4] = {};
    for (int k = 0; k < K; ++k)
      for (int n = 0; n < N; ++n) {
        even[n] = amx_ftz(std::fma(bf(a, m, 2 * k), bf(b, k, 2 * n), even[n]));
        odd[n] = amx_ftz(std::fma(bf(a, m, 2 * k + 1), bf(b, k, 2 * n + 1), odd[n]));
      }
    for (int n = 0; n < N; ++n) {
      float cv;
      std::memcpy(&cv, data_[c][m] + 4 * n, 4);
      cv = amx_ftz(amx_ftz(cv) + amx_ftz(even[n] + odd[n]));
      std::memcpy(data_[c][m] + 4 * n, &cv, 4);
    }
    std::memset(data_[c][m] + cfg_.colsb[c], 0, kMaxColsb - cfg_.colsb[c]);
  }
  finish_rows(c);
}

}  // namespace dse::amx
