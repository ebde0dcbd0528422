// The thread pool: every chunk runs once, exceptions reach the caller, and a worker that is
// descheduled when a job starts does not hold the job up (issue #21: the pool's passes in a decode
// step must not wait for a wake-up on a busy machine).
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <stdexcept>
#include <thread>
#include <vector>

#ifdef __linux__
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#endif

#include "check.h"
#include "common/contention.h"
#include "common/thread_pool.h"

using namespace dse;

TEST(thread_pool_covers_range_once) {
  ThreadPool pool(4);
  for (int64_t n : {1, 3, 4, 5, 1000}) {
    std::vector<int> hits(static_cast<size_t>(n), 0);
    pool.parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) hits[i]++;
    });
    for (int h : hits) CHECK_EQ(h, 1);
  }
  // Back-to-back jobs (workers still spinning) and jobs after a pause (workers asleep).
  std::vector<int64_t> sums(64, 0);
  for (int round = 0; round < 3000; ++round) {
    if (round % 1000 == 999) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    pool.parallel_for(64, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) sums[i] += i;
    });
  }
  for (int64_t i = 0; i < 64; ++i) CHECK_EQ(sums[i], 3000 * i);
  bool thrown = false;
  try {
    pool.parallel_for(8, [](int64_t b, int64_t) {
      if (b > 0) throw std::runtime_error("boom");
    });
  } catch (const std::runtime_error&) {
    thrown = true;
  }
  CHECK(thrown);
  // The pool is usable after an exception, and the error does not leak into the next job.
  std::atomic<int> ran{0};
  pool.parallel_for(8, [&](int64_t b, int64_t e) { ran += static_cast<int>(e - b); });
  CHECK_EQ(ran.load(), 8);
}

// Many short jobs on two threads; each chunk records which thread ran it: all chunks run exactly once
// whoever claims them, including when the caller ends up running the worker's share.
TEST(thread_pool_chunks_run_once_under_churn) {
  ThreadPool pool(2);
  std::vector<int> hits(2, 0);
  for (int round = 0; round < 20000; ++round) {
    pool.parallel_for(2, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) hits[i]++;
    });
  }
  CHECK_EQ(hits[0], 20000);
  CHECK_EQ(hits[1], 20000);
}

// The quiet/contended decision: quiet only after a measured window, contended for the hold time after
// any window with more than 2% run-queue delay, quiet again after it.
// The read-ahead hint (issue #21): an idle worker prefetches the posted ranges while the caller goes
// on; the caller never waits for it. Posted right after a job, while the worker still spins; on a busy
// machine a worker may already sleep (hints do not wake it), so the test posts again until one is served.
TEST(thread_pool_prefetch_hint_is_served_by_an_idle_worker) {
  ThreadPool pool(2);
  std::vector<char> buf(1 << 20, 1);
  const ThreadPool::Range ranges[] = {{buf.data(), 64 << 10}, {buf.data() + (512 << 10), 64 << 10}};
  const auto t0 = std::chrono::steady_clock::now();
  int posts = 0;
  while (pool.prefetched_bytes() == 0 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20)) {
    pool.parallel_for(2, [](int64_t, int64_t) {});
    pool.prefetch(ranges, 2);
    ++posts;
    for (int i = 0; i < 2000 && pool.prefetched_bytes() == 0; ++i) std::this_thread::yield();
  }
  std::printf("  served after %d posts\n", posts);
  // Both ranges of one hint, each once (a worker claims them; nobody prefetches a range twice).
  const auto t1 = std::chrono::steady_clock::now();
  while (pool.prefetched_bytes() % (128 << 10) != 0 && std::chrono::steady_clock::now() - t1 < std::chrono::seconds(5))
    std::this_thread::yield();
  CHECK(pool.prefetched_bytes() > 0);
  CHECK_EQ(pool.prefetched_bytes() % (128 << 10), 0u);
  ThreadPool alone(1);  // no worker: a hint is dropped at once
  alone.prefetch(ranges, 2);
  CHECK_EQ(alone.prefetched_bytes(), 0u);
}

// Hints interleaved with jobs (a decode step posts one after almost every pass): every chunk still
// runs exactly once, and a hint posted while a worker reads the previous one is not torn.
TEST(thread_pool_jobs_stay_exact_between_hints) {
  ThreadPool pool(3);
  std::vector<char> buf(256 << 10, 1);
  std::vector<int64_t> sums(64, 0);
  for (int round = 0; round < 3000; ++round) {
    const ThreadPool::Range r[] = {{buf.data() + (round % 7) * 4096, size_t{4096} * (1 + round % 5)},
                                   {buf.data() + (128 << 10), 8192}, {buf.data(), 64}};
    pool.prefetch(r, 1 + round % 3);
    if (round % 1000 == 999) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    pool.parallel_for(64, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) sums[i] += i;
    });
  }
  for (int64_t i = 0; i < 64; ++i) CHECK_EQ(sums[i], 3000 * i);
}

// The twelfth session's first --split run on a 2-vCPU VM: 236 of 321 windows had no run-queue delay at
// all, 18 had 2% or more, and the old rule (one window above 2% holds 250 ms) kept the pool contended
// for 305 of them, so the worker slept through 116 of 142 passes per step. An isolated delayed window
// must not end the long spin; a lasting share must, quickly. (Both tests failed with the old rule.)
TEST(contention_signal_ignores_an_isolated_delayed_window) {
  ContentionSignal s;
  const int64_t w = ContentionSignal::kWindowNs;
  CHECK(!s.quiet());  // nothing measured: not quiet
  s.observe(w, 0);
  CHECK(s.quiet());
  s.observe(w, w / 10);  // one window at 10%
  CHECK(s.quiet());
  for (int i = 0; i < 3; ++i) s.observe(w, 0);
  s.observe(w, w * 15 / 100);  // and later one at 15%
  CHECK(s.quiet());
}

TEST(contention_signal_sees_a_lasting_delay_share) {
  const int64_t w = ContentionSignal::kWindowNs;
  {
    ContentionSignal s;  // a competitor that takes half of a CPU: contended after one window
    s.observe(w, 0);
    s.observe(w, w / 2);
    CHECK(!s.quiet());
  }
  {
    ContentionSignal s;  // 10% in every window: contended within three
    s.observe(w, 0);
    for (int i = 0; i < 3; ++i) s.observe(w, w / 10);
    CHECK(!s.quiet());
    // Quiet again only once the share has stayed low for a while (not after one quiet window).
    s.observe(w, 0);
    CHECK(!s.quiet());
    int n = 0;
    while (!s.quiet() && n < 100) s.observe(w, 0), ++n;
    CHECK(s.quiet());
    CHECK(n >= 3);
    CHECK(n <= 20);  // 200 ms of quiet windows at most
  }
}

#ifdef __linux__
// With every CPU the process may use shared with a busy thread, the pool's threads wait for a CPU,
// and the pool must see the machine as contended (and so not spin long) within a few windows.
TEST(contention_signal_sees_busy_cpus) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  CHECK(sched_getaffinity(0, sizeof allowed, &allowed) == 0);
  const char* spin = std::getenv("DSE_POOL_SPIN");
  if (spin && std::string(spin) == "adaptive") {
    std::printf("  (skipped: DSE_POOL_SPIN=adaptive, the signal is not sampled)\n");
    return;
  }
  const int fd = open("/proc/thread-self/schedstat", O_RDONLY);
  if (fd < 0) {
    std::printf("  (skipped: no /proc/thread-self/schedstat)\n");
    return;
  }
  close(fd);
  std::atomic<bool> stop{false};
  std::vector<std::thread> hogs;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &allowed))
      for (int k = 0; k < 2; ++k)
        hogs.emplace_back([&, c] {
          cpu_set_t one;
          CPU_ZERO(&one);
          CPU_SET(c, &one);
          pthread_setaffinity_np(pthread_self(), sizeof one, &one);
          while (!stop.load(std::memory_order_relaxed)) {
          }
        });
  ThreadPool pool(2);
  std::atomic<int64_t> sum{0};
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(300))
    pool.parallel_for(2, [&](int64_t b, int64_t e) { sum += e - b; });
  const bool measured = contention().measured(), quiet = contention().quiet();
  stop = true;
  for (auto& h : hogs) h.join();
  CHECK(measured);
  CHECK(!quiet);
}

// A worker that gets no CPU (SCHED_IDLE, sharing its CPU with a busy thread: what a descheduled
// vCPU or a busy guest looks like to the pool) must not delay the caller: it runs the chunks itself.
// Before chunks were claimed, each job waited for that worker to run its assigned chunk, so 2000
// jobs took seconds to minutes (failed: 11 of 2000 jobs within the second, load 13).
TEST(thread_pool_does_not_wait_for_a_descheduled_worker) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 || CPU_COUNT(&allowed) < 2) {
    std::printf("  (skipped: needs two CPUs)\n");
    return;
  }
  int worker_cpu = -1, caller_cpu = -1;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &allowed)) (caller_cpu < 0 ? caller_cpu : worker_cpu) = c;
  auto pin = [](int cpu) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0;
  };
  CHECK(pin(caller_cpu));
  ThreadPool pool(2);
  // The first job's second chunk must be the worker's (the caller blocks in the first until both
  // arrived): it moves itself to worker_cpu at the lowest policy.
  const auto caller = std::this_thread::get_id();
  std::atomic<int> arrived{0};
  std::atomic<bool> demoted{false};
  pool.parallel_for(2, [&](int64_t, int64_t) {
    if (std::this_thread::get_id() != caller) {
      sched_param p{};
      demoted = pin(worker_cpu) && sched_setscheduler(0, SCHED_IDLE, &p) == 0;
    }
    ++arrived;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (arrived.load() < 2 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
  });
  CHECK_EQ(arrived.load(), 2);
  if (!demoted) {
    std::printf("  (skipped: could not pin the worker or set SCHED_IDLE)\n");
    return;
  }
  std::atomic<bool> stop{false};
  std::thread hog([&] {
    pin(worker_cpu);
    while (!stop.load(std::memory_order_relaxed)) {
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the hog owns worker_cpu
  std::vector<int64_t> sums(2, 0);
  const auto t0 = std::chrono::steady_clock::now();
  int jobs = 0;
  for (; jobs < 2000 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(1); ++jobs)
    pool.parallel_for(2, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) sums[i] += 1;
    });
  stop = true;
  hog.join();
  std::printf("  %d of 2000 jobs within the second\n", jobs);
  CHECK_EQ(jobs, 2000);
  CHECK_EQ(sums[0], 2000);
  CHECK_EQ(sums[1], 2000);
  cpu_set_t all = allowed;
  pthread_setaffinity_np(pthread_self(), sizeof all, &all);
}
#endif

TEST_MAIN()
