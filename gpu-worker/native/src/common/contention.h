// Whether the machine is quiet enough for the thread pool to spin long (issue #21). Spinning between
// a decode step's ~140 passes keeps a worker ready (this VM halts an idle vCPU at once, so each
// wake-up is an exit to the host), but on a busy machine a spinning thread burns the share of the
// CPU its partner needs (the eighth session measured 55-106 us per empty pass with long spins at
// load 9-11). The signal is the pool threads' own run-queue delay (/proc/thread-self/schedstat):
// time they were runnable but not running. Each thread samples its own every window, and the signal
// keeps a moving average of the windows' delay shares (each window a quarter of it), contended above
// 5%, quiet again below 2%. A lasting competitor (a busy thread on one of two CPUs delays ours by a
// third) turns it within a window or three; a lone delayed window does not (the twelfth session's
// first split on this 2-vCPU VM: 236 of 321 windows without delay, 18 at 2% or more, and the old rule,
// one window above 2% holding 250 ms, left 305 of them contended). Two threads' windows racing on the
// flag can misplace it for one window. The load average is no guide: it counts tasks waiting for the
// disk too. Where schedstat is unreadable the machine never counts as quiet.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>

namespace dse {

class ContentionSignal {
 public:
  static constexpr int64_t kWindowNs = 10'000'000;  // per thread, between two schedstat reads
  static constexpr int kEnterPpm = 50'000;           // average delay share (parts per million) above which
  static constexpr int kLeavePpm = 20'000;           // it is contended; below which quiet again

  // A window ended: wall_ns long, of which the thread waited delay_ns for a CPU.
  void observe(int64_t wall_ns, int64_t delay_ns) {
    const int share = wall_ns > 0 ? static_cast<int>(std::clamp<int64_t>(delay_ns, 0, wall_ns) * 1'000'000 / wall_ns) : 0;
    int avg = average_ppm_.load(std::memory_order_relaxed), next;
    do next = avg + (share - avg) / 4;
    while (!average_ppm_.compare_exchange_weak(avg, next, std::memory_order_relaxed));
    if (next > kEnterPpm) contended_.store(true, std::memory_order_relaxed);
    else if (next < kLeavePpm) contended_.store(false, std::memory_order_relaxed);
    measured_.store(true, std::memory_order_relaxed);
  }
  bool measured() const { return measured_.load(std::memory_order_relaxed); }
  bool quiet() const { return measured_.load(std::memory_order_relaxed) && !contended_.load(std::memory_order_relaxed); }

  // The calling thread's window: reads its run-queue delay when the window is over and reports it.
  // Cheap when not (one clock read, done by the caller); about a system call per window when it is.
  void sample(int64_t now_ns);

 private:
  std::atomic<int> average_ppm_{0};
  std::atomic<bool> contended_{false};
  std::atomic<bool> measured_{false};
};

// The process's signal: contention is the machine's, whichever pool or thread notices it.
ContentionSignal& contention();

int64_t monotonic_ns();

// The calling thread's run-queue delay so far in ns (schedstat), or -1 where unreadable.
int64_t own_run_delay_ns();

}  // namespace dse
