#include "cuda/block_allocator.h"

#include <algorithm>
#include <string>

#include "common/error.h"

namespace dse {

BlockAllocator::BlockAllocator(int32_t num_blocks) {
  if (num_blocks < 0) fail(ErrorKind::kInternal, "negative KV block count");
  refs_.assign(static_cast<size_t>(num_blocks), 0);
  free_.reserve(static_cast<size_t>(num_blocks));
  for (int32_t b = num_blocks - 1; b >= 0; --b) free_.push_back(b);
}

int32_t BlockAllocator::allocate() {
  if (free_.empty()) return -1;
  int32_t b = free_.back();
  free_.pop_back();
  refs_[static_cast<size_t>(b)] = 1;
  return b;
}

void BlockAllocator::retain(int32_t block) {
  if (block < 0 || block >= total() || refs_[static_cast<size_t>(block)] == 0)
    fail(ErrorKind::kInternal, "retain of KV block " + std::to_string(block) + " that is not live");
  ++refs_[static_cast<size_t>(block)];
}

void BlockAllocator::release(int32_t block) {
  if (block < 0 || block >= total() || refs_[static_cast<size_t>(block)] == 0)
    fail(ErrorKind::kInternal, "release of KV block " + std::to_string(block) + " that is not live");
  if (--refs_[static_cast<size_t>(block)] == 0) free_.push_back(block);
}

PageTable::PageTable(BlockAllocator& alloc, int slots, int32_t block_size)
    : alloc_(alloc), block_size_(block_size), tables_(static_cast<size_t>(slots)),
      capacity_(static_cast<size_t>(slots), 0), open_(static_cast<size_t>(slots), false) {
  if (block_size <= 0) fail(ErrorKind::kInternal, "KV block size must be positive");
}

void PageTable::open(int slot, int64_t capacity, const std::vector<int32_t>& shared) {
  if (slot < 0 || slot >= slots()) fail(ErrorKind::kInternal, "KV slot " + std::to_string(slot) + " out of range");
  if (open_[static_cast<size_t>(slot)]) fail(ErrorKind::kInternal, "KV slot " + std::to_string(slot) + " already open");
  if (capacity < 0) fail(ErrorKind::kBadRequest, "negative KV capacity");
  const int64_t need = (capacity + block_size_ - 1) / block_size_;
  if (static_cast<int64_t>(shared.size()) > need) fail(ErrorKind::kInternal, "more shared blocks than the sequence needs");
  const int64_t fresh = need - static_cast<int64_t>(shared.size());
  if (fresh > alloc_.free_count())
    fail(ErrorKind::kOutOfMemory, "KV cache full: sequence needs " + std::to_string(fresh) + " blocks of " +
                                      std::to_string(block_size_) + " tokens, " +
                                      std::to_string(alloc_.free_count()) + " free of " +
                                      std::to_string(alloc_.total()));
  std::vector<int32_t>& t = tables_[static_cast<size_t>(slot)];
  t.clear();
  for (int32_t b : shared) {
    alloc_.retain(b);
    t.push_back(b);
  }
  for (int64_t i = 0; i < fresh; ++i) t.push_back(alloc_.allocate());
  capacity_[static_cast<size_t>(slot)] = capacity;
  open_[static_cast<size_t>(slot)] = true;
}

void PageTable::close(int slot) {
  if (slot < 0 || slot >= slots() || !open_[static_cast<size_t>(slot)]) return;
  for (int32_t b : tables_[static_cast<size_t>(slot)]) alloc_.release(b);
  tables_[static_cast<size_t>(slot)].clear();
  capacity_[static_cast<size_t>(slot)] = 0;
  open_[static_cast<size_t>(slot)] = false;
}

int32_t PageTable::max_blocks_per_seq() const {
  size_t m = 0;
  for (const auto& t : tables_) m = std::max(m, t.size());
  return static_cast<int32_t>(m);
}

}  // namespace dse
