// The engine bench's memory-bandwidth probe (the roofline decode is judged against) and the reports that
// compare decode steps with the probe passes around them: the read passes, the probe's configurations,
// a step-by-step share of the adjacent passes, and the A/B step comparison (--ab-lanes, --ab-prefetch).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "common/thread_pool.h"

namespace dse::bench {

// One pass of the read probe: all threads sum disjoint parts of `buf`, `streams` streams each;
// returns bytes/s. `want` is the buffer's sum, checked so the reads cannot be optimized away.
double read_pass(ThreadPool& pool, const std::vector<uint64_t>& buf, int streams, uint64_t want);

struct Spread {
  double min = 0, median = 0, max = 0;  // bytes/s over the passes
};
Spread spread(std::vector<double> v);

// The machine's read ceiling as the engine's weights see it (bandwidth_probe.cpp says how it is read).
struct Bandwidth {
  double read = 0;        // bytes/s, median pass of the best configuration
  Spread passes;          // that configuration's passes
  int streams = 0;        // streams per thread that reached it
  double huge_share = 0;  // of the buffer in huge pages
  double small_pages = 0; // bytes/s on 4 KiB pages, same stream count, median pass
  double by_streams[4] = {};  // median pass with 1, 2, 4, 8 streams per thread
};

// The probe's 1 GiB buffer in 2 MiB pages and the sum of its words.
struct ProbeBuffer {
  std::vector<uint64_t> words;
  uint64_t sum = 0;
  ProbeBuffer();
};

Bandwidth probe_bandwidth(ThreadPool& pool, const ProbeBuffer& pb);
double memcpy_bandwidth(const std::vector<uint64_t>& buf);

// Decode judged step by step against the probe passes right before and after each step.
struct Adjacent {
  double share = 0;            // sum(bytes) / sum(step seconds x higher adjacent pass)
  std::vector<double> by_step; // bytes / seconds / higher adjacent pass, per step
  std::vector<double> probe;   // the higher adjacent pass, per step (bytes/s)
};
Adjacent adjacent_share(const std::vector<double>& step_s, const std::vector<double>& passes, double bytes);
void print_adjacent(const Adjacent& adj, const std::vector<double>& step_s, const std::vector<double>& passes);
void print_ab(const char* what, const std::string& sa, const std::string& sb, const std::vector<double>& step_s,
              const std::vector<double>& step_cpu, const Adjacent& adj, double bytes);

}  // namespace dse::bench
