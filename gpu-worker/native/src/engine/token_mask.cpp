#include "engine/token_mask.h"

#include <cstddef>
#include <limits>

namespace dse {

int count_allowed(const std::vector<uint64_t>& mask, int vocab) {
  int n = 0;
  for (int i = 0; i < vocab; ++i) {
    const size_t w = static_cast<size_t>(i) >> 6;
    if (w < mask.size() && (mask[w] >> (i & 63) & 1)) ++n;
  }
  return n;
}

void apply_token_mask(float* logits, int vocab, const std::vector<uint64_t>& mask) {
  constexpr float kNever = -std::numeric_limits<float>::infinity();
  for (int base = 0; base < vocab; base += 64) {
    const size_t w = static_cast<size_t>(base) >> 6;
    const uint64_t bits = w < mask.size() ? mask[w] : 0;
    if (bits == ~uint64_t{0}) continue;  // a whole word allowed: the common case inside strings
    const int end = base + 64 < vocab ? base + 64 : vocab;
    for (int i = base; i < end; ++i)
      if (!(bits >> (i - base) & 1)) logits[i] = kNever;
  }
}

}  // namespace dse
