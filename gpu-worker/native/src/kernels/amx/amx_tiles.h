// The AMX tile interface the prefill kernels (amx_kernels.h) are written against, once, and its
// configuration block. Two implementations: AmxHw (kernels/matmul_amx.cpp: the intrinsics, entered
// only where amx_status() says the CPU and the OS allow tiles) and AmxModel (amx_model.h: plain C++
// doing what each instruction does on a tile register file, so the kernels are tested on any CPU).
//
// A Tiles class has, with tile numbers as template arguments (the instructions encode them):
//   void config(const TileConfig&)                 ldtilecfg (palette 1; zeroes every tile)
//   void release()                                 tilerelease (back to the init state)
//   template <int T> void zero()                   tilezero
//   template <int T> void load(const void*, int64_t stride)   tileloadd: rows x colsb bytes, stride apart
//   template <int T> void store(void*, int64_t stride)        tilestored
//   template <int C, int A, int B> void dpbsud()   C (int32) += A (signed bytes) . B (unsigned bytes)
//   template <int C, int A, int B> void dpbf16ps() C (fp32) += A (bf16 pairs) . B (bf16 pairs)
// Shapes (Intel SDM, AMX): A is M rows x K bytes; B is K/4 rows x N*4 bytes, row k holding for each
// output column n the 4 bytes (int8) or 2 bf16 (bf16) of K-group k; C is M rows x N*4 bytes.
#pragma once
#include <cstdint>
#include <cstring>

namespace dse::amx {

constexpr int kTiles = 8;         // palette 1
constexpr int kMaxRows = 16;      // rows per tile
constexpr int kMaxColsb = 64;     // bytes per tile row

// The 64-byte operand of ldtilecfg, byte for byte as the SDM lays it out.
struct alignas(64) TileConfig {
  uint8_t palette_id = 1;
  uint8_t start_row = 0;  // restart point after a fault mid-load; always 0 here
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};  // bytes per row of tile i (tiles 8-15 reserved: 0)
  uint8_t rows[16] = {};

  void set(int tile, int n_rows, int n_colsb) {
    rows[tile] = static_cast<uint8_t>(n_rows);
    colsb[tile] = static_cast<uint16_t>(n_colsb);
  }
  bool operator==(const TileConfig& o) const { return std::memcmp(this, &o, sizeof(TileConfig)) == 0; }
};
static_assert(sizeof(TileConfig) == 64, "ldtilecfg reads 64 bytes");

}  // namespace dse::amx
