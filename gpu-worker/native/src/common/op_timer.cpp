#include "common/op_timer.h"

#include <atomic>
#include <ctime>

namespace dse::op_timer {

const char* name(int op) {
  static const char* const names[kCount] = {"embed", "rmsnorm", "q/k/v", "rope+kv", "attention", "o_proj",
                                            "residual", "gate/up", "silu_mul", "down", "lm_head", "sample"};
  return op >= 0 && op < kCount ? names[op] : "?";
}

#ifdef DSE_OP_TIMERS
namespace {
Totals g_totals;
std::atomic<int64_t> g_worker_sleeps{0}, g_caller_sleeps{0}, g_quiet_spins{0};
std::atomic<int64_t> g_jobs{0}, g_joined{0}, g_join_ns{0}, g_job_t0{0};
std::atomic<bool> g_job_joined{false};
std::atomic<int64_t> g_hints{0}, g_hint_bytes{0};
std::atomic<int64_t> g_wait[2][kWaitKinds] = {}, g_windows[kShareBuckets] = {}, g_contended{0};
std::atomic<int64_t> g_sleep_len[kSleepBuckets] = {}, g_sleep_delay{0};
int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
}  // namespace

Totals& totals() { return g_totals; }
void reset() {
  g_totals = Totals();
  g_worker_sleeps = 0;
  g_caller_sleeps = 0;
  g_quiet_spins = 0;
  g_jobs = 0, g_joined = 0, g_join_ns = 0;
  g_hints = 0, g_hint_bytes = 0;
  for (auto& r : g_wait)
    for (auto& c : r) c = 0;
  for (auto& c : g_windows) c = 0;
  for (auto& c : g_sleep_len) c = 0;
  g_contended = 0, g_sleep_delay = 0;
}
PoolWaits pool_waits() {
  PoolWaits w;
  for (int r = 0; r < 2; ++r)
    for (int k = 0; k < kWaitKinds; ++k) w.wait[r][k] = g_wait[r][k].load();
  for (int b = 0; b < kShareBuckets; ++b) w.windows[b] = g_windows[b].load();
  for (int b = 0; b < kSleepBuckets; ++b) w.sleep_len[b] = g_sleep_len[b].load();
  w.contended_windows = g_contended.load();
  w.sleep_delay_ns = g_sleep_delay.load();
  return w;
}
void count_wait(bool worker, Wait how) { g_wait[worker ? 1 : 0][how].fetch_add(1); }
void count_window(int64_t wall_ns, int64_t delay_ns, bool contended) {
  static const double edges[kShareBuckets - 1] = {0, 0.005, 0.01, 0.02, 0.05, 0.10, 0.25};
  const double share = wall_ns > 0 ? static_cast<double>(delay_ns) / static_cast<double>(wall_ns) : 0;
  int b = 0;
  while (b < kShareBuckets - 1 && (b == 0 ? share > edges[0] : share >= edges[b])) ++b;
  g_windows[b].fetch_add(1);
  if (contended) g_contended.fetch_add(1);
}
void count_worker_sleep(int64_t ns, int64_t delay_ns) {
  static const int64_t edges[kSleepBuckets - 1] = {20'000, 50'000, 200'000, 1'000'000, 10'000'000};
  int b = 0;
  while (b < kSleepBuckets - 1 && ns >= edges[b]) ++b;
  g_sleep_len[b].fetch_add(1);
  if (delay_ns > 0) g_sleep_delay.fetch_add(delay_ns);
}
PoolSleeps pool_sleeps() { return {g_worker_sleeps.load(), g_caller_sleeps.load(), g_quiet_spins.load()}; }
void count_quiet_spin() { g_quiet_spins.fetch_add(1); }
void count_pool_sleep(bool worker) { (worker ? g_worker_sleeps : g_caller_sleeps).fetch_add(1); }

PoolJoins pool_joins() { return {g_jobs.load(), g_joined.load(), g_join_ns.load(), g_hints.load(), g_hint_bytes.load()}; }
void pool_hint_posted() { g_hints.fetch_add(1); }
void pool_prefetched(int64_t bytes) { g_hint_bytes.fetch_add(bytes); }
void pool_job_started() {
  g_job_joined.store(false);
  g_job_t0.store(now_ns());
  g_jobs.fetch_add(1);
}
void pool_worker_claimed() {
  if (g_job_joined.exchange(true)) return;
  g_joined.fetch_add(1);
  g_join_ns.fetch_add(now_ns() - g_job_t0.load());
}

Scope::Scope(Op op, size_t bytes) : op_(op), bytes_(bytes), t0_(now_ns()) {}
Scope::~Scope() {
  g_totals.ns[op_] += now_ns() - t0_;
  g_totals.calls[op_] += 1;
  g_totals.bytes[op_] += static_cast<double>(bytes_);
}
#endif

}  // namespace dse::op_timer
