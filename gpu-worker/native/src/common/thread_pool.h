// Fixed-size worker pool with a blocking parallel_for. Kernels split work into contiguous ranges;
// the calling thread takes part, so a pool of N threads spawns N-1 workers.
// A decode step is ~230 parallel_for calls of well under a millisecond each, so waking a sleeping
// worker through the kernel (tens of microseconds on a VM) would cost several percent of a token:
// workers and the caller spin briefly on atomics before falling back to the condition variables,
// which idle pools still sleep on. The spin adapts, so a contended machine does not pay for it.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
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

  // Calls fn(begin, end) over [0, n) split into at most size() chunks; returns when all are done.
  // Exceptions from any chunk are rethrown on the caller.
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn);

 private:
  void worker_loop(int index);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_start_;
  std::condition_variable cv_done_;
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;
  int64_t job_n_ = 0;
  int chunks_ = 0;
  std::atomic<int> pending_{0};          // chunks not yet finished by workers
  std::atomic<uint64_t> generation_{0};  // bumped (under mu_) for each job
  std::atomic<int> spin_budget_{1 << 4};   // pause instructions before sleeping; see thread_pool.cpp
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace dse
