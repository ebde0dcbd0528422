// The engine bench's bandwidth probe and its step reports (bandwidth_probe.h). Moved out of bench_engine.cpp
// unchanged.
#include "bandwidth_probe.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "memory/huge_pages.h"

namespace dse::bench {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Sum of n words read as S interleaved sequential streams (each 1/S of the range, own
// accumulator): one stream per core leaves the memory system idle between prefetches, so the probe
// tries several counts and keeps the best. 256-bit loads where the CPU has AVX2.
template <int S>
__attribute__((target("avx2"))) uint64_t sum_streams_avx2(const uint64_t* p, int64_t n) {
  const int64_t q = n / S / 4 * 4;  // words per stream, a multiple of one 256-bit load
  __m256i a[S];
  for (int s = 0; s < S; ++s) a[s] = _mm256_setzero_si256();
  for (int64_t i = 0; i < q; i += 4)
    for (int s = 0; s < S; ++s)
      a[s] = _mm256_add_epi64(a[s], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + s * q + i)));
  for (int s = 1; s < S; ++s) a[0] = _mm256_add_epi64(a[0], a[s]);
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), a[0]);
  uint64_t acc = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  for (int64_t i = S * q; i < n; ++i) acc += p[i];
  return acc;
}

uint64_t sum_one_stream(const uint64_t* p, int64_t n) {
  uint64_t acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += p[i];
  return acc;
}

uint64_t sum_streams(int streams, const uint64_t* p, int64_t n) {
  if (!__builtin_cpu_supports("avx2")) return sum_one_stream(p, n);
  switch (streams) {
    case 1: return sum_streams_avx2<1>(p, n);
    case 2: return sum_streams_avx2<2>(p, n);
    case 4: return sum_streams_avx2<4>(p, n);
    default: return sum_streams_avx2<8>(p, n);
  }
}

// Fills `buf` with words that differ from page to page and returns their sum. A buffer of one
// repeated value (as the probe had) is a set of identical pages that a hypervisor's page merging,
// or a compressed or deduplicated memory tier, can serve from far fewer physical bytes than it
// spans; the weights are not like that.
uint64_t fill_distinct(std::vector<uint64_t>& buf) {
  uint64_t sum = 0, x = 0x243f6a8885a308d3ULL;
  for (auto& w : buf) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    w = x;
    sum += x;
  }
  return sum;
}

}  // namespace

// One pass of the read probe: all threads sum disjoint parts of `buf`, `streams` streams each;
// returns bytes/s. `want` is the buffer's sum, checked so the reads cannot be optimized away.
double read_pass(ThreadPool& pool, const std::vector<uint64_t>& buf, int streams, uint64_t want) {
  std::vector<uint64_t> partial(static_cast<size_t>(pool.size()) * 8, 0);
  auto t0 = Clock::now();
  pool.parallel_for(pool.size(), [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      const int64_t n = static_cast<int64_t>(buf.size());
      const int64_t lo = n * c / pool.size(), hi = n * (c + 1) / pool.size();
      partial[c * 8] = sum_streams(streams, buf.data() + lo, hi - lo);
    }
  });
  const double s = seconds_since(t0);
  uint64_t sink = 0;
  for (auto v : partial) sink += v;
  if (sink != want) std::printf("(bandwidth check sum mismatch)\n");
  return buf.size() * 8.0 / s;
}


Spread spread(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return {v.front(), n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, v.back()};
}

// The machine's read ceiling as the engine's weights see it: a 1 GiB buffer (32x this VM's L3, so no
// pass is served from cache) of distinct words in 2 MiB pages (as the weight loader allocates), read
// with 1, 2, 4 and 8 streams per thread, the configurations interleaved pass by pass so drift in the
// machine's state hits all alike; the probe is the best configuration's median pass, with its min and
// max beside it (a best-of-N figure kept the one lucky pass). Then the same on plain 4 KiB pages,
// which is what the older probe (and a loader without huge pages) got.
ProbeBuffer::ProbeBuffer() {
  constexpr size_t kWords = size_t{1} << 27;  // 1 GiB
  resize_huge(words, kWords);
  sum = fill_distinct(words);
}

Bandwidth probe_bandwidth(ThreadPool& pool, const ProbeBuffer& pb) {
  constexpr int kPasses = 7;
  const int configs[] = {1, 2, 4, 8};
  Bandwidth r;
  r.huge_share = static_cast<double>(huge_page_bytes(pb.words.data(), pb.words.size() * 8)) / (pb.words.size() * 8.0);
  read_pass(pool, pb.words, 1, pb.sum);  // warm-up: wakes the pool, settles clocks
  std::vector<double> rates[4];
  for (int pass = 0; pass < kPasses; ++pass)
    for (int c = 0; c < 4; ++c) rates[c].push_back(read_pass(pool, pb.words, configs[c], pb.sum));
  for (int c = 0; c < 4; ++c) {
    const Spread sp = spread(rates[c]);
    r.by_streams[c] = sp.median;
    if (sp.median > r.read) r.read = sp.median, r.passes = sp, r.streams = configs[c];
  }
  std::vector<uint64_t> small(pb.words.size());
  const uint64_t want = fill_distinct(small);
  std::vector<double> small_rates;
  for (int pass = 0; pass < 3; ++pass) small_rates.push_back(read_pass(pool, small, r.streams, want));
  r.small_pages = spread(small_rates).median;
  return r;
}

double memcpy_bandwidth(const std::vector<uint64_t>& buf) {
  std::vector<uint64_t> dst(buf.size() / 2);
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    auto t0 = Clock::now();
    std::memcpy(dst.data(), buf.data(), dst.size() * 8);
    double s = seconds_since(t0);
    best = std::max(best, 2.0 * dst.size() * 8 / s);  // bytes read + bytes written
  }
  return best;
}

// Decode judged step by step against the probe passes right before and right after each step (the
// machine's bandwidth moves from pass to pass: 32-51 GB/s within one quiet run), the higher of the two
// (stricter than either, and than their median). share: the step's bytes over the bytes the probe would
// have read in the same time at that rate, summed over the steps (so a slow step weighs by its time);
// by_step: each step's own share, for the spread and the count below 90%.
Adjacent adjacent_share(const std::vector<double>& step_s, const std::vector<double>& passes, double bytes) {
  Adjacent r;
  double probe_bytes = 0;
  for (size_t i = 0; i < step_s.size() && i + 1 < passes.size(); ++i) {
    const double p = std::max(passes[i], passes[i + 1]);
    r.probe.push_back(p);
    r.by_step.push_back(bytes / step_s[i] / p);
    probe_bytes += step_s[i] * p;
  }
  if (probe_bytes > 0) r.share = bytes * r.by_step.size() / probe_bytes;
  return r;
}

void print_adjacent(const Adjacent& adj, const std::vector<double>& step_s, const std::vector<double>& passes) {
  if (adj.by_step.empty()) return;
  const Spread ms = spread(step_s), sh = spread(adj.by_step), pr = spread(adj.probe);
  int low = 0;
  for (double s : adj.by_step) low += s < 0.9;
  std::printf("decode vs adjacent probe: %.1f%% (each step against the higher of the probe passes right before and "
              "after it, %.1f GB/s median); per step %.0f / %.0f / %.0f%% (min / median / max), %d of %zu steps under "
              "90%%; step %.2f / %.2f / %.2f ms\n",
              100 * adj.share, pr.median / 1e9, 100 * sh.min, 100 * sh.median, 100 * sh.max, low, adj.by_step.size(),
              1e3 * ms.min, 1e3 * ms.median, 1e3 * ms.max);
  std::printf("decode steps, ms:");
  for (double s : step_s) std::printf(" %.1f", 1e3 * s);
  std::printf("\nprobe passes between them, GB/s:");
  for (double p : passes) std::printf(" %.1f", p / 1e9);
  std::printf("\n");
}

// --ab-lanes N / --ab-prefetch KIB: steps 4k and 4k+3 ran with setting A (one lane; no read-ahead), 4k+1 and
// 4k+2 with B (N lanes; KIB read ahead) (ABBA, so a drift over the run, e.g. attention growing with the
// position, hits both alike). Pairs (4k, 4k+1) and (4k+3, 4k+2): the median of their time ratios B / A, and
// each setting's share of its adjacent probe passes. `what` names the line ("lanes"), sa and sb the settings.
void print_ab(const char* what, const std::string& sa, const std::string& sb, const std::vector<double>& step_s,
              const std::vector<double>& step_cpu, const Adjacent& adj, double bytes) {
  std::vector<double> ratio, cpu_ratio;
  double t[2] = {}, pb[2] = {};
  int n[2] = {};
  for (size_t i = 0; i < adj.by_step.size(); ++i) {
    const int b = i % 4 == 1 || i % 4 == 2;
    t[b] += step_s[i], pb[b] += step_s[i] * adj.probe[i], ++n[b];
  }
  for (size_t i = 0; i + 3 < step_s.size(); i += 4) {
    ratio.push_back(step_s[i + 1] / step_s[i]);
    ratio.push_back(step_s[i + 2] / step_s[i + 3]);
    cpu_ratio.push_back(step_cpu[i + 1] / step_cpu[i]);
    cpu_ratio.push_back(step_cpu[i + 2] / step_cpu[i + 3]);
  }
  if (ratio.empty() || !n[0] || !n[1]) return;
  const Spread r = spread(ratio);
  // On a shared machine most steps wait for a CPU; each setting's fastest steps are what it does when
  // it gets both: the minimum and the lower quartile of its step times.
  std::vector<double> by[2];
  for (size_t i = 0; i < step_s.size(); ++i) by[i % 4 == 1 || i % 4 == 2].push_back(step_s[i]);
  for (auto& v : by) std::sort(v.begin(), v.end());
  const char *a = sa.c_str(), *b = sb.c_str();
  std::printf("ab %s: %s %.2f ms per step, %.1f%% of its adjacent probe; %s %.2f ms, %.1f%%; step time "
              "ratio %s / %s, median of %zu ABBA pairs %.3f (min %.3f, max %.3f)\n",
              what, a, 1e3 * t[0] / n[0], 100 * bytes * n[0] / pb[0], b, 1e3 * t[1] / n[1], 100 * bytes * n[1] / pb[1], b,
              a, ratio.size(), r.median, r.min, r.max);
  std::printf("ab %s, fastest steps: %s min %.2f ms, lower quartile %.2f; %s min %.2f, lower quartile %.2f\n", what, a,
              1e3 * by[0].front(), 1e3 * by[0][by[0].size() / 4], b, 1e3 * by[1].front(), 1e3 * by[1][by[1].size() / 4]);
  // Process CPU time per step: with --threads 1 the one thread's time streaming (firm where the CPUs are
  // shared: time spent waiting for a CPU is not in it); with more, the waiting threads' spins are in it too.
  const Spread c = spread(cpu_ratio);
  std::printf("ab %s, CPU time per step: ratio %s / %s, median of %zu pairs %.3f (quartiles %.3f-%.3f)\n", what, b, a,
              cpu_ratio.size(), c.median, [&] { auto v = cpu_ratio; std::sort(v.begin(), v.end()); return v[v.size() / 4]; }(),
              [&] { auto v = cpu_ratio; std::sort(v.begin(), v.end()); return v[3 * v.size() / 4]; }());
}

}  // namespace dse::bench
