// Paged KV cache bookkeeping, host side and CUDA-free (so CI runs its tests without a GPU).
// The device cache is a pool of fixed-size blocks (block_size tokens each, every layer); a sequence
// owns a block table mapping its logical block i to a physical block id. Blocks are refcounted so
// several sequences can share the blocks of a common prompt prefix (prefix caching): a shared block
// is read-only; it returns to the free list when its last holder releases it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace dse {

class BlockAllocator {
 public:
  explicit BlockAllocator(int32_t num_blocks);
  int32_t total() const { return static_cast<int32_t>(refs_.size()); }
  int32_t free_count() const { return static_cast<int32_t>(free_.size()); }
  int32_t used_count() const { return total() - free_count(); }
  // Takes a free block with refcount 1, or returns -1 when none is free.
  int32_t allocate();
  // Adds a holder to a live block (prefix sharing).
  void retain(int32_t block);
  // Drops a holder; the block is freed when none remain. Throws on a free or unknown block.
  void release(int32_t block);
  int32_t refcount(int32_t block) const { return refs_.at(static_cast<std::size_t>(block)); }

 private:
  std::vector<int32_t> refs_;  // [num_blocks] holders per block, 0 = free
  std::vector<int32_t> free_;  // stack of free block ids (lowest ids handed out first)
};

// Block tables of every sequence slot. open() reserves all blocks a sequence may need up front
// (capacity is fixed at start, so decoding never allocates and never fails mid-sequence);
// close() returns them. Preemption hook: close() a slot and re-open it later with its tokens
// re-prefilled (recompute), since all state lives in the blocks.
class PageTable {
 public:
  PageTable(BlockAllocator& alloc, int slots, int32_t block_size);
  int32_t block_size() const { return block_size_; }
  int slots() const { return static_cast<int>(tables_.size()); }
  // Reserves ceil(capacity / block_size) blocks for `slot`, the first `shared.size()` of them taken
  // from `shared` (retained, not copied: prefix-cache hits). Throws EngineError(kOutOfMemory) when
  // the pool is short, leaving the allocator unchanged.
  void open(int slot, int64_t capacity, const std::vector<int32_t>& shared = {});
  void close(int slot);
  bool is_open(int slot) const { return open_.at(static_cast<std::size_t>(slot)); }
  int64_t capacity(int slot) const { return capacity_.at(static_cast<std::size_t>(slot)); }
  const std::vector<int32_t>& table(int slot) const { return tables_.at(static_cast<std::size_t>(slot)); }
  // Longest table over open slots (the width of the device block-table array).
  int32_t max_blocks_per_seq() const;
  // Physical block and offset of token `pos` of `slot`.
  int32_t block_of(int slot, int64_t pos) const { return tables_[slot][static_cast<std::size_t>(pos / block_size_)]; }

 private:
  BlockAllocator& alloc_;
  int32_t block_size_;
  std::vector<std::vector<int32_t>> tables_;  // [slots][blocks of the slot]
  std::vector<int64_t> capacity_;
  std::vector<bool> open_;
};

}  // namespace dse
