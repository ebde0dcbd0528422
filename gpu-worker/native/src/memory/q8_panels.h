// The int8 weight layout of the VNNI kernels (kernels/matmul_int8_vnni.cpp): output rows in panels of
// 16, and within a panel, for each 4 consecutive columns, the 4 bytes of each of the 16 rows side by
// side (64 bytes). One 512-bit load then feeds one `vpdpbusd` that adds 4 columns of 16 rows against
// one token's 4 activation bytes broadcast to every lane, so a block of 32 columns is 8 loads and 8
// dot instructions per panel and token, and its 16 block scales are one more load.
//   byte (row, col) at panel * 16 * kpad + col / 4 * 64 + row % 16 * 4 + col % 4, panel = row / 16
//   scale (row, block) at (panel * nb + block) * 16 + row % 16
// with kpad = nb * kQ8Block. Bytes are stored unsigned, code + 128 (vpdpbusd's first factor is
// unsigned); padding rows and columns are code 0 with scale 0. Same codes and scales as the row
// layout (quantize_q8_row), so the accuracy is the same; one copy of the weights either way.
#pragma once
#include <cstdint>

#include "memory/weight.h"

namespace dse {

constexpr int64_t kQ8PanelRows = 16;
inline int64_t q8_panels(int64_t rows) { return (rows + kQ8PanelRows - 1) / kQ8PanelRows; }
inline int64_t q8_padded_cols(int64_t cols) { return q8_blocks(cols) * kQ8Block; }

// Row-major int8 weight (i8 [rows * cols], scale [rows * nb]) -> panel layout, in place.
void pack_q8_panels(Weight& w);
// Rows [r0, r1) of a panel-layout weight back as row-major codes [(r1 - r0) * cols] and scales
// [(r1 - r0) * nb]: for row_f32 and for kernels that read rows.
void unpack_q8_rows(const Weight& w, int64_t r0, int64_t r1, int8_t* q, float* scale);

}  // namespace dse
