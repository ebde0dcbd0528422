// Numerically stable in-place softmax over one row (max subtracted first).
#pragma once
#include <cstdint>

namespace dse {

void softmax(float* x, int64_t n);

}  // namespace dse
