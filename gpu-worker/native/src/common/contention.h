// Whether the machine is quiet enough for the thread pool to spin long (issue #21). Spinning between
// a decode step's ~140 passes keeps a worker ready (this VM halts an idle vCPU at once, so each
// wake-up is an exit to the host), but on a busy machine a spinning thread burns the share of the
// CPU its partner needs (the eighth session measured 55-106 us per empty pass with long spins at
// load 9-11). The signal is the pool threads' own run-queue delay (/proc/thread-self/schedstat):
// time they were runnable but not running. Each thread samples its own every window; one window
// above 2% of its wall time marks the machine contended for the hold time, so the pool falls back
// to the short adaptive spin at the first sign of competition and returns to long spins only after
// quiet windows. Where schedstat is unreadable the machine never counts as quiet.
#pragma once
#include <atomic>
#include <cstdint>

namespace dse {

class ContentionSignal {
 public:
  static constexpr int64_t kWindowNs = 10'000'000;   // per thread, between two schedstat reads
  static constexpr int64_t kHoldNs = 250'000'000;    // contended this long after a delayed window
  static constexpr double kMaxDelayShare = 0.02;

  // A window ended at now_ns: wall_ns long, of which the thread waited delay_ns for a CPU.
  void observe(int64_t now_ns, int64_t wall_ns, int64_t delay_ns) {
    if (static_cast<double>(delay_ns) > kMaxDelayShare * static_cast<double>(wall_ns))
      contended_until_.store(now_ns + kHoldNs, std::memory_order_relaxed);
    measured_.store(true, std::memory_order_relaxed);
  }
  bool measured() const { return measured_.load(std::memory_order_relaxed); }
  bool quiet(int64_t now_ns) const {
    return measured_.load(std::memory_order_relaxed) && now_ns >= contended_until_.load(std::memory_order_relaxed);
  }

  // The calling thread's window: reads its run-queue delay when the window is over and reports it.
  // Cheap when not (one clock read, done by the caller); about a system call per window when it is.
  void sample(int64_t now_ns);

 private:
  std::atomic<int64_t> contended_until_{0};
  std::atomic<bool> measured_{false};
};

// The process's signal: contention is the machine's, whichever pool or thread notices it.
ContentionSignal& contention();

int64_t monotonic_ns();

// The calling thread's run-queue delay so far in ns (schedstat), or -1 where unreadable.
int64_t own_run_delay_ns();

}  // namespace dse
