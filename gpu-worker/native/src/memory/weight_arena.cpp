#include "memory/weight_arena.h"

#include <algorithm>

#include <sys/mman.h>

#include "memory/huge_pages.h"

namespace dse {

namespace {

constexpr size_t kHugePage = size_t{1} << 21;
constexpr size_t kAlign = 64;
// Address space reserved per mapping. Pages never touched cost no memory, so a model's weights take
// one or a few mappings (a tensor that does not fit the room left gets a new one, and smaller ones
// still fill the old), while a small model touches only what it uses.
constexpr size_t kChunk = size_t{1} << 30;

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

// An anonymous mapping of `size` bytes starting on a 2 MiB boundary, advised before any touch;
// nullptr when the system refuses it.
char* map_aligned(size_t size) {
  const size_t span = size + kHugePage;
  void* p = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  const uintptr_t raw = reinterpret_cast<uintptr_t>(p);
  const uintptr_t start = round_up(raw, kHugePage);
  if (start > raw) munmap(p, start - raw);
  const uintptr_t end = raw + span, want_end = start + size;
  if (end > want_end) munmap(reinterpret_cast<void*>(want_end), end - want_end);
  advise_huge_pages(reinterpret_cast<void*>(start), size);
  return reinterpret_cast<char*>(start);
}

}  // namespace

WeightArena::~WeightArena() {
  for (const Chunk& c : chunks_) munmap(c.base, c.size);
}

void* WeightArena::allocate(size_t bytes) {
  const size_t need = round_up(std::max<size_t>(bytes, 1), kAlign);
  std::lock_guard<std::mutex> lk(mu_);
  for (Chunk& c : chunks_)
    if (c.size - c.used >= need) {
      void* p = c.base + c.used;
      c.used += need;
      return p;
    }
  Chunk c{nullptr, round_up(std::max(need, kChunk), kHugePage), need};
  c.base = map_aligned(c.size);
  if (!c.base) {  // strict overcommit counts the reserve: ask for what is needed
    c.size = round_up(need, kHugePage);
    c.base = map_aligned(c.size);
  }
  if (!c.base) throw std::bad_alloc();
  chunks_.push_back(c);
  return c.base;
}

size_t WeightArena::used() const {
  std::lock_guard<std::mutex> lk(mu_);
  size_t n = 0;
  for (const Chunk& c : chunks_) n += c.used;
  return n;
}

size_t WeightArena::huge_page_bytes() const {
  std::lock_guard<std::mutex> lk(mu_);
  std::vector<std::pair<const void*, size_t>> ranges;
  for (const Chunk& c : chunks_) ranges.emplace_back(c.base, c.used);
  return dse::huge_page_bytes(ranges);
}

}  // namespace dse
