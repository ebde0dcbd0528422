#include "memory/huge_pages.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>

#ifdef __linux__
#include <sys/mman.h>
#endif

namespace dse {

namespace {
constexpr uintptr_t kHugePage = uintptr_t{1} << 21;
}

void advise_huge_pages(void* p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + kHugePage - 1) & ~(kHugePage - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(kHugePage - 1);
  // Advice only: a failure (THP compiled out, an unusual mapping) leaves ordinary pages, which work.
  if (end > begin) (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

size_t huge_page_bytes(const void* p, size_t bytes) { return huge_page_bytes({{p, bytes}}); }

size_t huge_page_bytes(const std::vector<std::pair<const void*, size_t>>& ranges) {
  size_t want = 0;
  for (const auto& r : ranges) want += r.second;
#ifdef __linux__
  // smaps lists each mapping as a "start-end perms ..." line followed by its fields (no field line
  // parses as a hex range); AnonHugePages is a mapping's bytes in huge pages. The advice splits an
  // allocation into several mappings (the advised middle, the unaligned ends), and adjacent advised
  // ranges merge into one, so every mapping overlapping a range counts, once. For tests and benches.
  FILE* f = std::fopen("/proc/self/smaps", "r");
  if (!f) return 0;
  char line[4096];
  bool inside = false;
  size_t total = 0;
  while (std::fgets(line, sizeof line, f)) {
    unsigned long lo = 0, hi = 0, kb = 0;
    if (std::sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
      inside = false;
      for (const auto& r : ranges) {
        const uintptr_t a = reinterpret_cast<uintptr_t>(r.first), b = a + r.second;
        inside = inside || (r.second > 0 && lo < b && a < hi);
      }
    } else if (inside && std::sscanf(line, "AnonHugePages: %lu kB", &kb) == 1) {
      total += static_cast<size_t>(kb) * 1024;
    }
  }
  std::fclose(f);
  return std::min(total, want);
#else
  return 0;
#endif
}

}  // namespace dse
