#include "common/contention.h"

#include "common/op_timer.h"

#include <ctime>

#ifdef __linux__
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#endif

namespace dse {

int64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

namespace {

// The calling thread's run-queue delay in ns (schedstat's second field), or -1 where unreadable.
struct OwnSchedstat {
  int fd = -2;  // -2: not opened yet, -1: unavailable
  int64_t window_start = 0, delay_at_start = 0;
  ~OwnSchedstat() {
#ifdef __linux__
    if (fd >= 0) close(fd);
#endif
  }
  int64_t run_delay() {
#ifdef __linux__
    if (fd == -2) fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    char buf[96];
    const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return -1;
    buf[n] = 0;
    unsigned long long on_cpu = 0, delay = 0;
    if (std::sscanf(buf, "%llu %llu", &on_cpu, &delay) != 2) return -1;
    return static_cast<int64_t>(delay);
#else
    return -1;
#endif
  }
};

}  // namespace

int64_t own_run_delay_ns() {
  thread_local OwnSchedstat own;
  return own.run_delay();
}

ContentionSignal& contention() {
  static ContentionSignal signal;
  return signal;
}

void ContentionSignal::sample(int64_t now_ns) {
  thread_local OwnSchedstat own;
  if (own.fd == -1) return;
  if (own.window_start != 0 && now_ns - own.window_start < kWindowNs) return;
  const int64_t delay = own.run_delay();
  if (delay < 0) return;
  if (own.window_start != 0) {
    observe(now_ns - own.window_start, delay - own.delay_at_start);
    op_timer::count_window(now_ns - own.window_start, delay - own.delay_at_start, !quiet());
  }
  own.window_start = now_ns;
  own.delay_at_start = delay;
}

}  // namespace dse
