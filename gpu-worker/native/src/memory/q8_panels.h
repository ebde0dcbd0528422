// The int8 weight layout of the VNNI kernels (kernels/matmul_int8_vnni.cpp): output rows in panels of
// 16, and within a panel, for each 4 consecutive columns, the 4 bytes of each of the 16 rows side by
// side (64 bytes). One 512-bit load then feeds one `vpdpbusd` that adds 4 columns of 16 rows against
// one token's 4 activation bytes broadcast to every lane, so a block of 32 columns is 8 loads and 8
// dot instructions per panel and token, and its 16 block scales, stored right after its codes, are
// one more load: a panel is one sequential stream of 576-byte blocks (with the scales in an array of
// their own, a decode thread streamed twice as many ranges; docs/performance.md, #21, tenth session).
//   byte (row, col) at (panel * nb + col / 32) * 576 + col % 32 / 4 * 64 + row % 16 * 4 + col % 4
//   scale (row, block), an f32, at byte (panel * nb + block) * 576 + 512 + row % 16 * 4
// with panel = row / 16, nb = q8_blocks(cols). All of it in Weight::i8 (Weight::scale stays empty).
// Code bytes are stored unsigned, code + 128 (vpdpbusd's first factor is unsigned); padding rows and
// columns are code 0 with scale 0. Same codes and scales as the row layout (quantize_q8_row), so the
// accuracy is the same; one copy of the weights either way.
#pragma once
#include <cstdint>

#include "memory/weight.h"

namespace dse {

constexpr int64_t kQ8PanelRows = 16;
inline int64_t q8_panels(int64_t rows) { return (rows + kQ8PanelRows - 1) / kQ8PanelRows; }
inline int64_t q8_padded_cols(int64_t cols) { return q8_blocks(cols) * kQ8Block; }
constexpr int64_t kQ8PanelCodeBytes = kQ8PanelRows * kQ8Block;                    // 512
constexpr int64_t kQ8PanelBlockBytes = kQ8PanelCodeBytes + kQ8PanelRows * 4;      // 576: codes, then scales
// Bytes of Weight::i8 for a [rows, cols] weight in this layout.
inline int64_t q8_panel_bytes(int64_t rows, int64_t cols) { return q8_panels(rows) * q8_blocks(cols) * kQ8PanelBlockBytes; }

// Row-major int8 weight (i8 [rows * cols], scale [rows * nb]) -> panel layout (all in i8), in place.
void pack_q8_panels(Weight& w);
// Rows [r0, r1) of a panel-layout weight back as row-major codes [(r1 - r0) * cols] and scales
// [(r1 - r0) * nb]: for row_f32 and for kernels that read rows.
void unpack_q8_rows(const Weight& w, int64_t r0, int64_t r1, int8_t* q, float* scale);

}  // namespace dse
