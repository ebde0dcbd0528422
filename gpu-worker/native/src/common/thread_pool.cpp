#include "common/thread_pool.h"

#include <algorithm>

#include "common/op_timer.h"

#ifdef __linux__
#include <pthread.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace dse {

namespace {

// Spin budget in pause instructions, adapted per pool: doubled when a spin ends in the awaited
// event, quartered when it runs out. On a quiet machine the budget sits at the top (a fraction of
// a millisecond, longer than the gap between two ops of a decode step); on a contended one, where
// the other thread is often descheduled and spinning only burns the time slice it would need,
// failures push it to the floor within a few calls, which costs microseconds per op. Workers that
// wait longer (between requests) still go to sleep on the condition variable.
constexpr int kSpinMax = 1 << 8, kSpinMin = 1 << 4;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

// Spins until done() or the budget runs out, then adapts the budget; true when done() held.
template <typename Done>
bool spin_until(std::atomic<int>& budget, const Done& done) {
  const int n = budget.load(std::memory_order_relaxed);
  for (int i = 0; i < n; ++i) {
    if (done()) {
      if (n < kSpinMax) budget.store(std::min(kSpinMax, 2 * n), std::memory_order_relaxed);
      return true;
    }
    cpu_relax();
  }
  if (done()) return true;
  if (n > kSpinMin) budget.store(std::max(kSpinMin, n / 4), std::memory_order_relaxed);
  return false;
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
  int n = std::max(1, threads);
  for (int i = 1; i < n; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
    generation_.fetch_add(1, std::memory_order_release);  // ends the spin of a worker that is spinning
  }
  cv_start_.notify_all();
  for (auto& t : workers_) t.join();
}

static void run_chunk(const std::function<void(int64_t, int64_t)>& fn, int64_t n, int chunks, int i) {
  int64_t begin = n * i / chunks;
  int64_t end = n * (i + 1) / chunks;
  if (begin < end) fn(begin, end);
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  int chunks = static_cast<int>(std::min<int64_t>(size(), n));
  if (chunks == 1) {
    fn(0, n);
    return;
  }
  {
    // Published under the mutex so a worker that checks the generation and then sleeps cannot miss it.
    std::lock_guard<std::mutex> lk(mu_);
    job_ = &fn;
    job_n_ = n;
    chunks_ = chunks;
    pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
    error_ = nullptr;
    generation_.fetch_add(1, std::memory_order_release);
  }
  cv_start_.notify_all();  // no system call when every worker is still spinning
  std::exception_ptr mine;
  try {
    run_chunk(fn, n, chunks, 0);
  } catch (...) {
    mine = std::current_exception();
  }
  auto done = [this] { return pending_.load(std::memory_order_acquire) == 0; };
  if (!spin_until(spin_budget_, done)) {
    op_timer::count_pool_sleep(false);
    std::unique_lock<std::mutex> lk(mu_);
    cv_done_.wait(lk, done);
  }
  std::lock_guard<std::mutex> lk(mu_);  // orders error_ (written under the mutex) before reading it
  job_ = nullptr;
  if (mine) std::rethrow_exception(mine);
  if (error_) std::rethrow_exception(error_);
}

void ThreadPool::worker_loop(int index) {
#ifdef __linux__
  // Otherwise the thread inherits its creator's name (a JVM worker thread's): named, top -H and the
  // load bench's CPU accounting can tell the engine's compute threads apart.
  pthread_setname_np(pthread_self(), "dsengine-pool");
#endif
  uint64_t seen = 0;
  for (;;) {
    const std::function<void(int64_t, int64_t)>* job;
    int64_t n;
    int chunks;
    auto started = [&] { return generation_.load(std::memory_order_acquire) != seen; };
    if (!spin_until(spin_budget_, started)) {
      op_timer::count_pool_sleep(true);
      std::unique_lock<std::mutex> lk(mu_);
      cv_start_.wait(lk, started);
    }
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (stop_) return;
      seen = generation_.load(std::memory_order_relaxed);
      job = job_;
      n = job_n_;
      chunks = chunks_;
    }
    // Workers beyond the chunk count still acknowledge the job so pending_ stays consistent.
    std::exception_ptr err;
    if (index < chunks) {
      try {
        run_chunk(*job, n, chunks, index);
      } catch (...) {
        err = std::current_exception();
      }
    }
    if (err) {
      std::lock_guard<std::mutex> lk(mu_);
      if (!error_) error_ = err;
    }
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lk(mu_);  // the caller may be between its check and its wait
      cv_done_.notify_all();
    }
  }
}

}  // namespace dse
