#include "memory/q8_panels.h"

#include "memory/huge_pages.h"
#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

namespace dse {

namespace {
inline int64_t block_at(int64_t nb, int64_t row, int64_t block) {
  return (row / kQ8PanelRows * nb + block) * kQ8PanelBlockBytes;
}
inline int64_t byte_at(int64_t nb, int64_t row, int64_t col) {
  return block_at(nb, row, col / kQ8Block) + col % kQ8Block / 4 * 64 + row % kQ8PanelRows * 4 + col % 4;
}
inline int64_t scale_at(int64_t nb, int64_t row, int64_t block) {
  return block_at(nb, row, block) + kQ8PanelCodeBytes + row % kQ8PanelRows * 4;
}
}  // namespace

void pack_q8_panels(Weight& w) {
  if (w.format != WFormat::kI8 || w.panels) return;
  const int64_t nb = q8_blocks(w.cols), np = q8_panels(w.rows);
  // the packed copy is what decode streams, so it too sits in huge pages (on the heap: the loader
  // moves it into the model's arena afterwards, where the row copy would never be freed)
  WeightVec<int8_t> q;
  resize_huge(q, static_cast<size_t>(q8_panel_bytes(w.rows, w.cols)));
  for (int64_t pb = 0; pb < np * nb; ++pb) {  // padding: code 0 (stored as 128), scale 0
    int8_t* blk = q.data() + pb * kQ8PanelBlockBytes;
    std::fill(blk, blk + kQ8PanelCodeBytes, static_cast<int8_t>(-128));
    std::fill(blk + kQ8PanelCodeBytes, blk + kQ8PanelBlockBytes, static_cast<int8_t>(0));
  }
  for (int64_t r = 0; r < w.rows; ++r) {
    for (int64_t c = 0; c < w.cols; ++c)
      q[byte_at(nb, r, c)] = static_cast<int8_t>(static_cast<uint8_t>(w.i8[r * w.cols + c] + 128));
    for (int64_t b = 0; b < nb; ++b) std::memcpy(q.data() + scale_at(nb, r, b), &w.scale[r * nb + b], sizeof(float));
  }
  w.i8 = std::move(q);
  w.scale = WeightVec<float>();
  w.panels = true;
}

void unpack_q8_rows(const Weight& w, int64_t r0, int64_t r1, int8_t* q, float* scale) {
  const int64_t nb = q8_blocks(w.cols);
  for (int64_t r = r0; r < r1; ++r) {
    for (int64_t c = 0; c < w.cols; ++c)
      q[(r - r0) * w.cols + c] = static_cast<int8_t>(static_cast<uint8_t>(w.i8[byte_at(nb, r, c)]) - 128);
    for (int64_t b = 0; b < nb; ++b) std::memcpy(&scale[(r - r0) * nb + b], w.i8.data() + scale_at(nb, r, b), sizeof(float));
  }
}

}  // namespace dse
