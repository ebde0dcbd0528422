// Wall time of each kind of op in the forward pass, for the bench's decode split (issue #21: is a
// decode step's time in the weight GEMVs or around them?). Compiled in only with -DDSE_OP_TIMERS=ON,
// a separate bench build; otherwise DSE_TIME_OP expands to nothing and its arguments are not evaluated.
// Timed on the thread that runs the forward pass, so a pool op's time includes its barrier.
#pragma once
#include <cstddef>
#include <cstdint>

namespace dse::op_timer {

enum Op : int { kEmbed, kNorm, kQkv, kRope, kAttention, kWo, kResidual, kGateUp, kSilu, kDown, kLmHead, kSample, kCount };
const char* name(int op);

struct Totals {
  int64_t ns[kCount] = {};
  int64_t calls[kCount] = {};
  double bytes[kCount] = {};  // weight bytes read (GEMV ops), for GB/s
};

// Thread-pool waits that ended in a sleep on a condition variable (the spin ran out): a worker's
// sleep makes the next parallel_for pay a wake-up through the kernel.
struct PoolSleeps {
  int64_t worker = 0, caller = 0;
  int64_t quiet = 0;  // waits that spun long (common/contention.h said the machine was quiet)
};

// Pool jobs, and how soon a worker claimed its first chunk of one (the rest the caller ran alone).
// How each pool wait ended (issue #21, twelfth session: why does the worker sleep on a quiet machine?).
enum Wait : int { kWaitImmediate, kWaitQuietDone, kWaitQuietTimeout, kWaitAdaptiveDone, kWaitAdaptiveOut, kWaitKinds };
// The contention signal's windows by run-queue delay share, and the worker's sleeps by length.
constexpr int kShareBuckets = 8;   // 0, <0.5%, <1%, <2%, <5%, <10%, <25%, more
constexpr int kSleepBuckets = 6;   // <20us, <50, <200, <1ms, <10ms, more
struct PoolWaits {
  int64_t wait[2][kWaitKinds] = {};  // [0] caller, [1] worker
  int64_t windows[kShareBuckets] = {};
  int64_t contended_windows = 0;
  int64_t sleep_len[kSleepBuckets] = {};
  int64_t sleep_delay_ns = 0;  // run-queue delay a worker accrued across its sleeps (its wake-ups)
};

struct PoolJoins {
  int64_t jobs = 0, joined = 0, join_ns = 0;
  int64_t hints = 0, hint_bytes = 0;  // read-ahead hints posted, bytes the workers prefetched
};

#ifdef DSE_OP_TIMERS
constexpr bool kEnabled = true;
Totals& totals();  // the forward pass's thread; read and reset between steps by the bench
void reset();
PoolSleeps pool_sleeps();
void count_pool_sleep(bool worker);
void count_quiet_spin();
PoolJoins pool_joins();
void pool_job_started();
void pool_worker_claimed();
void pool_hint_posted();
void pool_prefetched(int64_t bytes);
PoolWaits pool_waits();
void count_wait(bool worker, Wait how);
void count_window(int64_t wall_ns, int64_t delay_ns, bool contended);
void count_worker_sleep(int64_t ns, int64_t delay_ns);

class Scope {
 public:
  explicit Scope(Op op, size_t bytes = 0);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  Op op_;
  size_t bytes_;
  int64_t t0_;
};
#define DSE_OP_CAT2(a, b) a##b
#define DSE_OP_CAT(a, b) DSE_OP_CAT2(a, b)
#define DSE_TIME_OP(...) ::dse::op_timer::Scope DSE_OP_CAT(dse_op_scope_, __LINE__)(__VA_ARGS__)
#else
constexpr bool kEnabled = false;
inline Totals& totals() {
  static Totals none;
  return none;
}
inline void reset() {}
inline PoolSleeps pool_sleeps() { return {}; }
inline void count_pool_sleep(bool) {}
inline void count_quiet_spin() {}
inline PoolJoins pool_joins() { return {}; }
inline void pool_job_started() {}
inline void pool_worker_claimed() {}
inline void pool_hint_posted() {}
inline void pool_prefetched(int64_t) {}
inline PoolWaits pool_waits() { return {}; }
inline void count_wait(bool, Wait) {}
inline void count_window(int64_t, int64_t, bool) {}
inline void count_worker_sleep(int64_t, int64_t) {}
#define DSE_TIME_OP(...)
#endif

}  // namespace dse::op_timer
