#include "common/thread_pool.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "common/contention.h"
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

// On a quiet machine (common/contention.h) a wait spins up to this long before sleeping: longer than
// the serial gaps between a decode step's passes (rope, norms: microseconds) and than the shrinking
// tails of a GEMV, short against the idle time between requests. DSE_POOL_SPIN=adaptive turns it off
// (the adaptive spin only), to compare the two on a machine.
constexpr int64_t kQuietSpinNs = 200'000;

bool quiet_spin_enabled() {
  static const bool on = [] {
    const char* env = std::getenv("DSE_POOL_SPIN");
    return !(env && std::strcmp(env, "adaptive") == 0);
  }();
  return on;
}

// Spins until done(): up to kQuietSpinNs while the machine is quiet, else the adaptive budget.
template <typename Done>
bool wait_spinning(std::atomic<int>& budget, const Done& done, bool worker) {
  if (done()) {
    op_timer::count_wait(worker, op_timer::kWaitImmediate);
    return true;
  }
  if (quiet_spin_enabled()) {
    const int64_t t0 = monotonic_ns();
    ContentionSignal& signal = contention();
    signal.sample(t0);
    if (signal.quiet()) {
      op_timer::count_quiet_spin();
      for (;;) {
        for (int i = 0; i < 64; ++i) {
          if (done()) {
            op_timer::count_wait(worker, op_timer::kWaitQuietDone);
            return true;
          }
          cpu_relax();
        }
        if (monotonic_ns() - t0 > kQuietSpinNs) {
          const bool d = done();
          op_timer::count_wait(worker, d ? op_timer::kWaitQuietDone : op_timer::kWaitQuietTimeout);
          return d;
        }
      }
    }
  }
  const bool d = spin_until(budget, done);
  op_timer::count_wait(worker, d ? op_timer::kWaitAdaptiveDone : op_timer::kWaitAdaptiveOut);
  return d;
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
  int n = std::max(1, threads);
  for (int i = 1; i < n; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_seq_cst);
  chunks_.store(0, std::memory_order_relaxed);  // the new generation below has nothing to claim
  claim_.store(((claim_.load(std::memory_order_relaxed) >> 32) + 1) << 32, std::memory_order_seq_cst);
  {
    std::lock_guard<std::mutex> lk(mu_);
    cv_start_.notify_all();
  }
  for (auto& t : workers_) t.join();
}

namespace {
uint32_t generation_of(uint64_t claim) { return static_cast<uint32_t>(claim >> 32); }
uint64_t hint_seq_of(uint64_t claim) { return claim >> 8; }
int hint_index_of(uint64_t claim) { return static_cast<int>(claim & 0xff); }

// One software prefetch per cache line, into L2 (the next pass's data; a range can be larger than L1).
void prefetch_lines(const void* p, size_t bytes) {
#if defined(__x86_64__) || defined(__i386__)
  const char* c = static_cast<const char*>(p);
  for (size_t i = 0; i < bytes; i += 64) _mm_prefetch(c + i, _MM_HINT_T1);
#else
  (void)p, (void)bytes;
#endif
}
}  // namespace

void ThreadPool::prefetch(const Range* ranges, int n) {
  if (workers_.empty()) return;
  n = std::clamp(n, 0, kMaxPrefetchRanges);
  const uint64_t seq = hint_seq_of(hint_claim_.load(std::memory_order_relaxed)) + 1;  // odd: writing
  hint_claim_.store(seq << 8, std::memory_order_relaxed);
  // Release stores (no fences, which TSan does not model): a worker whose acquire load sees a new field
  // also sees the odd sequence above on its re-check, and drops the read.
  for (int i = 0; i < n; ++i) {
    hint_p_[i].store(ranges[i].p, std::memory_order_release);
    hint_bytes_[i].store(ranges[i].bytes, std::memory_order_release);
  }
  hint_n_.store(n, std::memory_order_relaxed);
  hint_claim_.store((seq + 1) << 8, std::memory_order_release);  // even: published, range 0 next
  op_timer::pool_hint_posted();
}

bool ThreadPool::hint_pending() const {
  const uint64_t c = hint_claim_.load(std::memory_order_acquire);
  return (hint_seq_of(c) & 1) == 0 && hint_index_of(c) < hint_n_.load(std::memory_order_relaxed);
}

void ThreadPool::run_hints() {
  uint64_t c = hint_claim_.load(std::memory_order_acquire);
  for (;;) {
    if ((hint_seq_of(c) & 1) != 0) return;
    const int i = hint_index_of(c);
    if (i >= hint_n_.load(std::memory_order_relaxed) || i >= kMaxPrefetchRanges) return;
    if (!hint_claim_.compare_exchange_weak(c, c + 1, std::memory_order_acquire, std::memory_order_acquire)) continue;
    const void* p = hint_p_[i].load(std::memory_order_acquire);
    const size_t bytes = hint_bytes_[i].load(std::memory_order_acquire);
    // The caller may have begun another hint since the claim: then these fields may be torn.
    if (hint_seq_of(hint_claim_.load(std::memory_order_relaxed)) != hint_seq_of(c)) return;
    prefetch_lines(p, bytes);
    prefetched_.fetch_add(bytes, std::memory_order_relaxed);
    op_timer::pool_prefetched(static_cast<int64_t>(bytes));
    c = hint_claim_.load(std::memory_order_acquire);
  }
}

void ThreadPool::run_claims(uint32_t gen, bool worker) {
  uint64_t c = claim_.load(std::memory_order_acquire);
  for (;;) {
    if (generation_of(c) != gen) return;
    const int chunks = chunks_.load(std::memory_order_relaxed);
    const int index = static_cast<int>(c & 0xffffffffu);
    if (index >= chunks) return;
    // Success means chunk `index` of job `gen` was still unclaimed, so that job cannot finish (nor the
    // caller overwrite its fields) before this thread marks the chunk done: the fields read now are its.
    if (!claim_.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
    if (worker) op_timer::pool_worker_claimed();
    const Fn& fn = *job_.load(std::memory_order_relaxed);
    const int64_t n = job_n_.load(std::memory_order_relaxed);
    const int64_t begin = n * index / chunks, end = n * (index + 1) / chunks;
    try {
      if (begin < end) fn(begin, end);
    } catch (...) {
      std::lock_guard<std::mutex> lk(mu_);
      if (!error_) error_ = std::current_exception();
    }
    // seq_cst with the caller's store of caller_asleep_ and its re-check of done_ (no lost wake-up).
    if (done_.fetch_add(1, std::memory_order_seq_cst) + 1 == chunks && caller_asleep_.load(std::memory_order_seq_cst)) {
      std::lock_guard<std::mutex> lk(mu_);
      cv_done_.notify_all();
    }
    c = claim_.load(std::memory_order_acquire);
  }
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  const int chunks = static_cast<int>(std::min<int64_t>(size(), n));
  if (chunks == 1) {
    fn(0, n);
    return;
  }
  // Only this thread writes generations, and every chunk of the previous job is done, so no other
  // thread reads or writes the job's fields now (a late worker's claim fails on the generation).
  const uint32_t gen = generation_of(claim_.load(std::memory_order_relaxed)) + 1;
  job_.store(&fn, std::memory_order_relaxed);
  job_n_.store(n, std::memory_order_relaxed);
  chunks_.store(chunks, std::memory_order_relaxed);
  done_.store(0, std::memory_order_relaxed);
  op_timer::pool_job_started();
  claim_.store(static_cast<uint64_t>(gen) << 32, std::memory_order_seq_cst);  // publishes the fields above
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard<std::mutex> lk(mu_);  // a worker between its re-check and its wait holds mu_
    cv_start_.notify_all();
  }
  run_claims(gen, false);
  auto done = [this, chunks] { return done_.load(std::memory_order_seq_cst) == chunks; };
  if (!wait_spinning(spin_budget_, done, false)) {
    op_timer::count_pool_sleep(false);
    std::unique_lock<std::mutex> lk(mu_);
    caller_asleep_.store(true, std::memory_order_seq_cst);
    cv_done_.wait(lk, done);
    caller_asleep_.store(false, std::memory_order_relaxed);
  }
  // Every chunk is done: no thread writes error_ until the next job.
  if (error_) {
    std::exception_ptr e = error_;
    error_ = nullptr;
    std::rethrow_exception(e);
  }
}

void ThreadPool::worker_loop() {
#ifdef __linux__
  // Otherwise the thread inherits its creator's name (a JVM worker thread's): named, top -H and the
  // load bench's CPU accounting can tell the engine's compute threads apart.
  pthread_setname_np(pthread_self(), "dsengine-pool");
#endif
  uint32_t seen = 0;
  auto started = [&] {
    return generation_of(claim_.load(std::memory_order_seq_cst)) != seen || stop_.load(std::memory_order_relaxed);
  };
  // While spinning, a hint also ends the wait; a sleeping worker is woken for jobs only.
  auto ready = [&] { return started() || hint_pending(); };
  for (;;) {
    if (!wait_spinning(spin_budget_, ready, true)) {
      op_timer::count_pool_sleep(true);
      const int64_t s0 = op_timer::kEnabled ? monotonic_ns() : 0, d0 = op_timer::kEnabled ? own_run_delay_ns() : 0;
      std::unique_lock<std::mutex> lk(mu_);
      sleepers_.fetch_add(1, std::memory_order_seq_cst);  // then re-checked by the wait: see parallel_for
      cv_start_.wait(lk, started);
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
      if (op_timer::kEnabled) {
        lk.unlock();
        op_timer::count_worker_sleep(monotonic_ns() - s0, own_run_delay_ns() - d0);
      }
    }
    if (stop_.load(std::memory_order_acquire)) return;
    if (!started()) {  // a hint and no job: prefetch, then wait again
      run_hints();
      continue;
    }
    seen = generation_of(claim_.load(std::memory_order_acquire));
    run_claims(seen, true);
  }
}

}  // namespace dse
