// A model of the AMX instructions (palette 1) in plain C++: a tile register file of 8 tiles of 16
// rows x 64 bytes and what ldtilecfg, tilezero, tileloadd, tilestored, tdpbsud, tdpbssd, tdpbf16ps
// and tilerelease do to it, after the pseudo-code of the Intel SDM (Vol. 2, "AMX" instructions). It
// models the INSTRUCTIONS, not our kernels: the kernels (amx_kernels.h) run on it on CPUs without
// AMX, and on the hardware (AmxHw) where there is AMX; test_amx checks it against hand-computed
// tiles. The faults the SDM names (#GP for a bad config, #UD for an unconfigured tile or shapes that
// do not match) throw EngineError(kInternal) naming the fault, so a kernel that would fault on the
// hardware fails its test here. Not modelled: start_row (restart after a fault; always 0) and the
// instructions' speed.
#pragma once
#include <cstdint>

#include "kernels/amx/amx_tiles.h"

namespace dse::amx {

class AmxModel {
 public:
  void config(const TileConfig& cfg);
  void release();
  template <int T> void zero() { zero_tile(T); }
  template <int T> void load(const void* base, int64_t stride) { load_tile(T, base, stride); }
  template <int T> void store(void* base, int64_t stride) const { store_tile(T, base, stride); }
  template <int C, int A, int B> void dpbsud() { dp_int8(C, A, B, true, false); }
  template <int C, int A, int B> void dpbssd() { dp_int8(C, A, B, true, true); }
  template <int C, int A, int B> void dpbf16ps() { dp_bf16(C, A, B); }

  // Runtime-numbered forms (the templates above forward to them) and the register file, for tests.
  void zero_tile(int t);
  void load_tile(int t, const void* base, int64_t stride);
  void store_tile(int t, void* base, int64_t stride) const;
  // C += A . B over 4-byte groups; a_signed / b_signed pick sign or zero extension per operand
  // (tdpbssd: both signed; tdpbsud: A signed, B unsigned; tdpbusd, tdpbuud likewise).
  void dp_int8(int c, int a, int b, bool a_signed, bool b_signed);
  void dp_bf16(int c, int a, int b);
  const uint8_t* tile_bytes(int t) const { return data_[t][0]; }
  bool configured() const { return configured_; }
  int tile_loads() const { return loads_; }

 private:
  void need(int t, const char* insn) const;
  void need_distinct(int c, int a, int b, const char* insn) const;
  void finish_rows(int t);  // zero_upper_rows: rows from the configured count on are zero

  uint8_t data_[kTiles][kMaxRows][kMaxColsb] = {};
  TileConfig cfg_;
  bool configured_ = false;
  int loads_ = 0;
};

// The scalar semantics the model uses, exposed for its test: bf16 to fp32 with denormals as zero
// (DAZ), and an fp32 result with denormals flushed to zero (FTZ), signs kept.
float amx_make_fp32(uint16_t bf16);
float amx_ftz(float f);

}  // namespace dse::amx
