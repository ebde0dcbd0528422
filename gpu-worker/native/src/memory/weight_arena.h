// One memory region per model for its weight matrices. Decode streams every weight once per token,
// and a matrix in its own allocation sits in 2 MiB pages only on its aligned middle: its unaligned
// ends, and whole matrices under 2 MiB (a 1.5B model's k/v projections), stay on 4 KiB pages with a
// TLB miss per 4 KiB. The arena packs the matrices back to back in 2 MiB-aligned mappings advised
// MADV_HUGEPAGE before their first touch, so all of them sit in huge pages where the kernel offers
// them. Memory is released only when the arena goes, so it holds what lives as long as the model.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace dse {

class WeightArena {
 public:
  WeightArena() = default;
  ~WeightArena();
  WeightArena(const WeightArena&) = delete;
  WeightArena& operator=(const WeightArena&) = delete;

  // 64-byte aligned, zero-filled, never reused (freeing is a no-op until the arena goes). Throws
  // std::bad_alloc when the system refuses the mapping.
  void* allocate(size_t bytes);
  // Bytes handed out, and bytes of them in huge pages now (/proc/self/smaps; for tests and benches).
  size_t used() const;
  size_t huge_page_bytes() const;

 private:
  struct Chunk {
    char* base;
    size_t size, used;
  };
  mutable std::mutex mu_;
  std::vector<Chunk> chunks_;
};

// std::vector storage from an arena, or from the heap where none is given (tests, adapters, copies).
// A copy of a vector goes to the heap (an arena never frees, so copies made at run time would grow
// it); a move keeps the storage where it is.
template <typename T>
class ArenaAllocator {
 public:
  using value_type = T;
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_swap = std::true_type;
  using is_always_equal = std::false_type;

  ArenaAllocator() = default;
  explicit ArenaAllocator(std::shared_ptr<WeightArena> arena) : arena_(std::move(arena)) {}
  template <typename U>
  ArenaAllocator(const ArenaAllocator<U>& o) : arena_(o.arena()) {}

  T* allocate(size_t n) {
    if (!arena_) return std::allocator<T>().allocate(n);
    return static_cast<T*>(arena_->allocate(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) {
    if (!arena_) std::allocator<T>().deallocate(p, n);
  }
  ArenaAllocator select_on_container_copy_construction() const { return ArenaAllocator(); }
  const std::shared_ptr<WeightArena>& arena() const { return arena_; }

  template <typename U>
  bool operator==(const ArenaAllocator<U>& o) const { return arena_ == o.arena(); }
  template <typename U>
  bool operator!=(const ArenaAllocator<U>& o) const { return arena_ != o.arena(); }

 private:
  std::shared_ptr<WeightArena> arena_;
};

template <typename T>
using WeightVec = std::vector<T, ArenaAllocator<T>>;

}  // namespace dse
