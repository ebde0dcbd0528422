#include "kernels/matmul.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <vector>

#include "kernels/decode_pass.h"
#include "memory/q8_panels.h"

// The decode read-ahead hint (prefetch_decode): which bytes each pool thread reads first in the next
// pass, so idle workers can touch them during the serial work before it.
namespace dse {

using detail::ahead_rows;
using detail::decode_cap;
using detail::first_piece;
using detail::kDecodeGrain;

std::vector<ThreadPool::Range> decode_prefetch_ranges(const MatmulJob* jobs, int n, int threads, int64_t bytes,
                                                     int lanes) {
  std::vector<ThreadPool::Range> ranges;
  if (n <= 0) return ranges;
  const Weight& w = *jobs[0].w;
  const bool panels = w.format == WFormat::kI8 && w.panels;
  // The rows as the pass lays them out: one matrix's, or a group's end to end (matmul_group).
  int64_t group_rows = n == 1 ? w.rows : 0;
  for (int j = 0; j < n && n > 1; ++j) group_rows += (jobs[j].w->rows + kDecodeGrain - 1) / kDecodeGrain * kDecodeGrain;
  if (bytes <= 0 || threads < 2 || group_rows <= kDecodeGrain || !(panels || w.format == WFormat::kBF16)) return ranges;
  // Lanes as decode_lanes_rows cuts them (only the VNNI kernel over panels runs lanes): each chunk's first
  // piece is read in every lane at once, so each lane's piece gets its share of the bytes.
  const int64_t span0 = ((group_rows + std::max(1, lanes) - 1) / std::max(1, lanes) + kDecodeGrain - 1) / kDecodeGrain * kDecodeGrain;
  const bool laned = lanes > 1 && panels && simd_level() >= SimdLevel::kAvx512Dot && span0 < group_rows;
  const int nl = laned ? lanes : 1;
  const int64_t span = laned ? span0 : group_rows;
  const int64_t first = first_piece(span, kDecodeGrain, decode_cap(w), ahead_rows(w, bytes), threads);
  const int64_t per_range = laned ? std::max<int64_t>(64, bytes / nl) : bytes;
  // Byte offset of row r of matrix j (a multiple of the grain, so of a panel), clipped to its whole panels.
  auto offset = [&](const Weight& m, int64_t r) {
    if (!panels) return r * m.cols * 2;
    return (r == m.rows ? q8_panels(r) : r / kQ8PanelRows) * q8_blocks(m.cols) * kQ8PanelBlockBytes;
  };
  auto base = [&](const Weight& m) {
    return panels ? reinterpret_cast<const char*>(m.i8.data()) : reinterpret_cast<const char*>(m.bf16.data());
  };
  for (int k = 0; k < nl && first > 0; ++k)
    for (int c = 0; c < threads; ++c) {
      if (static_cast<int>(ranges.size()) == ThreadPool::kMaxPrefetchRanges) return ranges;
      int64_t r0 = c * first + k * span, r1 = std::min((c + 1) * first, span) + k * span;
      // The matrix holding r0 (a group's rows start on multiples of the grain), the range clipped to it.
      int64_t start = 0;
      int j = 0;
      for (; j + 1 < n; ++j) {
        const int64_t len = (jobs[j].w->rows + kDecodeGrain - 1) / kDecodeGrain * kDecodeGrain;
        if (r0 < start + len) break;
        start += len;
      }
      const Weight& m = *jobs[j].w;
      r0 -= start, r1 = std::min(m.rows, r1 - start);
      if (r0 >= r1 || base(m) == nullptr) continue;  // (the older form's filler has no data)
      const int64_t len = std::min<int64_t>(per_range, offset(m, r1) - offset(m, r0));
      ranges.push_back({base(m) + offset(m, r0), static_cast<size_t>(len)});
    }
  return ranges;
}

std::vector<ThreadPool::Range> decode_prefetch_ranges(const Weight& w, int64_t group_rows, int threads, int64_t bytes) {
  // A group whose rows start with w's (the older form, one lane): w first, the rest as one filler matrix.
  if (group_rows <= kDecodeGrain) return {};
  Weight rest;
  rest.format = w.format, rest.panels = w.panels, rest.cols = w.cols;
  rest.rows = std::max<int64_t>(0, group_rows - (w.rows + kDecodeGrain - 1) / kDecodeGrain * kDecodeGrain);
  const MatmulJob jobs[] = {{&w, nullptr, nullptr}, {&rest, nullptr, nullptr}};
  return decode_prefetch_ranges(jobs, group_rows == w.rows ? 1 : 2, threads, bytes, 1);
}

namespace {
void post_hint(const MatmulJob* jobs, int n, ThreadPool* pool) {
  if (!pool || pool->size() < 2) return;
  const auto ranges = decode_prefetch_ranges(jobs, n, pool->size(), decode_prefetch_bytes(), decode_lanes());
  if (!ranges.empty()) pool->prefetch(ranges.data(), static_cast<int>(ranges.size()));
}
}  // namespace

void prefetch_decode(const Weight& w, ThreadPool* pool) {
  const MatmulJob job{&w, nullptr, nullptr};
  post_hint(&job, 1, pool);
}

void prefetch_decode(const MatmulJob* jobs, int n, ThreadPool* pool) { post_hint(jobs, n, pool); }

namespace {
// Off by default: on the loaded machine (load 4-15, probe 17-46 GB/s) it was not faster: an 8-layer
// pass sequence with 8 us serial gaps ran 0.97-1.00x with 64-256 KiB read ahead (median paired ratios),
// and the engine's pairs were noise. Not yet measured in the quiet fast state it was meant for
// (docs/performance.md, #21, eleventh session): DSE_DECODE_PREFETCH=64 there, against 0.
constexpr int64_t kDefaultPrefetchBytes = 0;
std::atomic<int64_t>& prefetch_flag() {
  static std::atomic<int64_t> flag{[] {
    const char* env = std::getenv("DSE_DECODE_PREFETCH");
    return env ? std::max<int64_t>(0, std::atoll(env)) * 1024 : kDefaultPrefetchBytes;
  }()};
  return flag;
}
}  // namespace
int64_t decode_prefetch_bytes() { return prefetch_flag().load(std::memory_order_relaxed); }
void set_decode_prefetch_bytes(int64_t bytes) { prefetch_flag().store(std::max<int64_t>(0, bytes)); }

}  // namespace dse
