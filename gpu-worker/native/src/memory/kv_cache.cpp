#include "memory/kv_cache.h"

#include <new>
#include <string>

#include "common/error.h"

namespace dse {

KvCache::KvCache(int layers, int64_t width, int slots) : layers_(layers), width_(width), slots_(slots) {}

void KvCache::open(int slot, int64_t capacity) {
  if (slot < 0 || slot >= slots()) fail(ErrorKind::kInternal, "kv slot out of range");
  Slot& s = slots_[slot];
  try {
    s.data.assign(static_cast<size_t>(layers_ * capacity * width_), 0.f);
  } catch (const std::bad_alloc&) {
    fail(ErrorKind::kOutOfMemory, "cannot allocate KV cache for " + std::to_string(capacity) + " tokens (" +
                                      std::to_string(layers_ * capacity * width_ * 4 / (1 << 20)) + " MiB)");
  }
  s.capacity = capacity;
  s.open = true;
}

void KvCache::close(int slot) {
  Slot& s = slots_[slot];
  std::vector<float>().swap(s.data);
  s.capacity = 0;
  s.open = false;
}

bool KvCache::is_open(int slot) const { return slot >= 0 && slot < slots() && slots_[slot].open; }

int64_t KvCache::capacity(int slot) const { return slots_[slot].capacity; }

size_t KvCache::bytes_in_use() const {
  size_t b = 0;
  for (const auto& s : slots_) b += s.data.size() * 4;
  return b;
}

int64_t KvCache::tokens_reserved() const {
  int64_t n = 0;
  for (const auto& s : slots_)
    if (s.open) n += s.capacity;
  return n;
}

}  // namespace dse
