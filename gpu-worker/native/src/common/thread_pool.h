// Fixed-size worker pool with a blocking parallel_for. Kernels split work into contiguous ranges;
// the calling thread takes part, so a pool of N threads spawns N-1 workers.
// A decode step is ~140 parallel_for calls of well under a millisecond each, so waking a sleeping
// worker through the kernel (microseconds on a VM, far more when the host or the guest is busy)
// must not sit on the critical path: chunks are claimed, not assigned. Whoever comes first (the
// caller included) takes the next unclaimed chunk, and the caller waits only for chunks that were
// claimed, so a worker that is asleep or descheduled when a job starts is simply not waited for;
// it helps with whatever is left when it arrives. Workers and the caller spin briefly on atomics
// before falling back to the condition variables, which idle pools still sleep on: up to 200 us while
// the machine is quiet (common/contention.h), else a short adaptive spin, so a contended machine
// does not pay for it.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dse {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end) over [0, n) split into at most size() chunks, each chunk exactly once, on
  // whichever threads claim them (possibly all on the caller); returns when all are done.
  // Exceptions from any chunk are rethrown on the caller. Not reentrant: one caller at a time.
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn);

  // A hint, not a job: idle workers read these ranges into their caches (software prefetches, one
  // range per claim) while the caller goes on with the serial work between two passes, so the next
  // pass starts on data already near the cores instead of ramping its streams from memory (a decode
  // step is ~141 passes; kernels/matmul.h, prefetch_decode). The caller never waits for it; a worker
  // that is asleep or in a job skips it until it is idle again, and a later hint replaces it.
  // Caller thread only, like parallel_for. Prefetches never fault, so a range may be stale.
  struct Range {
    const void* p = nullptr;
    size_t bytes = 0;
  };
  static constexpr int kMaxPrefetchRanges = 4;
  void prefetch(const Range* ranges, int n);
  // Bytes the workers have prefetched (tests, the bench's split).
  uint64_t prefetched_bytes() const { return prefetched_.load(std::memory_order_relaxed); }

 private:
  using Fn = std::function<void(int64_t, int64_t)>;
  void worker_loop();
  // Claims and runs chunks of job `gen` until none is left (or a newer job replaced it).
  void run_claims(uint32_t gen, bool worker);
  bool hint_pending() const;
  // Claims and prefetches the current hint's ranges until none is left or the caller posts another.
  void run_hints();

  std::vector<std::thread> workers_;
  // The job: written by the caller before it publishes claim_, stable until all its chunks are done.
  std::atomic<const Fn*> job_{nullptr};
  std::atomic<int64_t> job_n_{0};
  std::atomic<int> chunks_{0};
  // generation << 32 | next unclaimed chunk: a claim is a compare-exchange that also checks the
  // generation, so a worker that read a finished job's fields can never run one of its chunks.
  std::atomic<uint64_t> claim_{0};
  std::atomic<int> done_{0};             // chunks of the current job finished
  std::atomic<int> sleepers_{0};         // workers asleep (or about to be) on cv_start_
  std::atomic<bool> caller_asleep_{false};
  std::atomic<bool> stop_{false};
  std::atomic<int> spin_budget_{1 << 4};  // pause instructions before sleeping; see thread_pool.cpp
  std::mutex mu_;                        // the sleeps and error_ only; never taken on a job's fast path
  std::condition_variable cv_start_;
  std::condition_variable cv_done_;
  std::exception_ptr error_;             // first chunk exception of the current job (under mu_)
  // The hint: (sequence << 8 | next unclaimed range); the sequence is odd while the caller writes the
  // ranges (a seqlock: a worker re-checks it after reading a range and drops a torn read).
  std::atomic<uint64_t> hint_claim_{0};
  std::atomic<int> hint_n_{0};
  std::atomic<const void*> hint_p_[kMaxPrefetchRanges] = {};
  std::atomic<size_t> hint_bytes_[kMaxPrefetchRanges] = {};
  std::atomic<uint64_t> prefetched_{0};
};

}  // namespace dse
