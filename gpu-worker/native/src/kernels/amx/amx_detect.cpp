// Whether tiles may run: cpuid (AMX-TILE, AMX-BF16, AMX-INT8), XCR0 (the OS manages tile state) and,
// on Linux, the process's permission to use the large XTILEDATA state (kernel 5.16+: without it the
// first tile instruction raises SIGILL). Once per process; every thread that runs tiles loads its
// own config (the kernels do, per call, and release the tiles after).
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "kernels/amx/amx_matmul.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace dse {

namespace detail {

bool amx_decide(const AmxProbe& p, int (*request_permission)(), char* buf, int buf_len, const char** reason) {
  auto no = [&](const char* why) {
    *reason = why;
    return false;
  };
  if (!p.built) return no("not built (the compiler lacks -mamx-tile -mamx-bf16 -mamx-int8)");
  if (!(p.leaf7_edx & (1u << 24))) return no("no amx-tile in cpuid");
  if (!(p.leaf7_edx & (1u << 22))) return no("no amx-bf16 in cpuid");
  if (!(p.leaf7_edx & (1u << 25))) return no("no amx-int8 in cpuid");
  if (!p.osxsave || (p.xcr0 & (3ull << 17)) != (3ull << 17)) return no("the OS does not enable tile state (XCR0 bits 17, 18)");
  const int err = request_permission ? request_permission() : ENOSYS;
  if (err != 0) {
    std::snprintf(buf, static_cast<size_t>(buf_len), "arch_prctl(ARCH_REQ_XCOMP_PERM, XTILEDATA) refused (errno %d)", err);
    *reason = buf;
    return false;
  }
  *reason = "available";
  return true;
}

}  // namespace detail

namespace {

int request_xtiledata() {
#if defined(__linux__) && defined(__x86_64__)
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0 ? 0 : errno;
#else
  return ENOSYS;
#endif
}

struct Decision {
  bool ok = false;
  const char* reason = nullptr;
  char buf[96] = {};
};

const Decision& decision() {
  static const Decision d = [] {
    Decision r;
    detail::AmxProbe p;
#if defined(__x86_64__)
    unsigned a = 0, b = 0, c = 0, e = 0;
    if (__get_cpuid_max(0, nullptr) >= 1) __cpuid(1, a, b, c, e);
    p.osxsave = c & (1u << 27);
    if (__get_cpuid_max(0, nullptr) >= 7) {
      __cpuid_count(7, 0, a, b, c, e);
      p.leaf7_edx = e;
    }
    if (p.osxsave) {
      unsigned lo = 0, hi = 0;
      __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
      p.xcr0 = (static_cast<unsigned long long>(hi) << 32) | lo;
    }
#endif
#if defined(DSE_HAVE_AMX_TU)
    p.built = true;
#endif
    r.ok = detail::amx_decide(p, request_xtiledata, r.buf, sizeof(r.buf), &r.reason);
    return r;
  }();
  return d;
}

std::atomic<int64_t>& min_tokens_flag() {
  static std::atomic<int64_t> flag{[] {
    const char* env = std::getenv("DSE_AMX_MIN_TOKENS");
    const long long v = env ? std::atoll(env) : 16;
    return static_cast<int64_t>(v >= 2 ? v : 16);
  }()};
  return flag;
}

std::atomic<bool>& emulation_flag() {
  static std::atomic<bool> flag{false};
  return flag;
}

}  // namespace

bool amx_available() { return decision().ok; }
const char* amx_status() { return decision().reason; }
int64_t amx_min_tokens() { return min_tokens_flag().load(std::memory_order_relaxed); }
void set_amx_min_tokens(int64_t tokens) { min_tokens_flag().store(tokens >= 2 ? tokens : 16); }
void set_amx_emulation(bool on) { emulation_flag().store(on); }
bool amx_emulation() { return emulation_flag().load(std::memory_order_relaxed); }

}  // namespace dse
