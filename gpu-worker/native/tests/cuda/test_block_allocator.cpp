// Host-side paged-KV bookkeeping (no GPU needed; runs in CI): allocation, refcounted prefix sharing,
// exhaustion leaving state unchanged, and every block returned after random open/close churn.
#include <random>

#include "../check.h"
#include "cuda/block_allocator.h"

using namespace dse;

TEST(allocate_release_roundtrip) {
  BlockAllocator a(5);
  CHECK_EQ(a.free_count(), 5);
  std::vector<int32_t> got;
  for (int i = 0; i < 5; ++i) got.push_back(a.allocate());
  CHECK_EQ(a.allocate(), -1);
  CHECK_EQ(a.free_count(), 0);
  for (int i = 0; i < 5; ++i) CHECK_EQ(got[i], i);  // lowest ids first
  for (int32_t b : got) a.release(b);
  CHECK_EQ(a.free_count(), 5);
  bool threw = false;
  try {
    a.release(0);
  } catch (const EngineError&) {
    threw = true;
  }
  CHECK(threw);
}

TEST(page_table_sizes_and_oom) {
  BlockAllocator a(10);
  PageTable pt(a, 4, 16);
  pt.open(0, 1);  // 1 block
  CHECK_EQ(pt.table(0).size(), 1u);
  pt.open(1, 33);  // 3 blocks
  CHECK_EQ(pt.table(1).size(), 3u);
  pt.open(2, 0);  // no blocks
  CHECK_EQ(pt.table(2).size(), 0u);
  CHECK_EQ(a.free_count(), 6);
  CHECK_EQ(pt.max_blocks_per_seq(), 3);
  CHECK_EQ(pt.block_of(1, 32), pt.table(1)[2]);
  bool oom = false;
  try {
    pt.open(3, 16 * 7);
  } catch (const EngineError& e) {
    oom = e.kind() == ErrorKind::kOutOfMemory;
  }
  CHECK(oom);
  CHECK_EQ(a.free_count(), 6);  // failed open took nothing
  CHECK(!pt.is_open(3));
  pt.close(1);
  pt.close(1);  // idempotent
  CHECK_EQ(a.free_count(), 9);
  pt.close(0);
  pt.close(2);
  CHECK_EQ(a.free_count(), 10);
}

TEST(prefix_sharing_refcounts) {
  BlockAllocator a(8);
  PageTable pt(a, 3, 4);
  pt.open(0, 12);  // 3 blocks
  std::vector<int32_t> prefix(pt.table(0).begin(), pt.table(0).begin() + 2);
  pt.open(1, 16, prefix);  // 2 shared + 2 fresh
  CHECK_EQ(pt.table(1)[0], prefix[0]);
  CHECK_EQ(pt.table(1)[1], prefix[1]);
  CHECK_EQ(a.refcount(prefix[0]), 2);
  CHECK_EQ(a.free_count(), 8 - 3 - 2);
  pt.close(0);  // shared blocks stay live for slot 1
  CHECK_EQ(a.refcount(prefix[0]), 1);
  CHECK_EQ(a.free_count(), 8 - 4);
  pt.close(1);
  CHECK_EQ(a.free_count(), 8);
}

TEST(random_churn_returns_every_block) {
  BlockAllocator a(200);
  const int slots = 64;
  PageTable pt(a, slots, 16);
  std::mt19937 rng(7);
  for (int it = 0; it < 5000; ++it) {
    int s = static_cast<int>(rng() % slots);
    if (pt.is_open(s)) {
      pt.close(s);
    } else {
      try {
        pt.open(s, static_cast<int64_t>(rng() % 100));
      } catch (const EngineError& e) {
        CHECK(e.kind() == ErrorKind::kOutOfMemory);
      }
    }
    int64_t held = 0;
    for (int i = 0; i < slots; ++i) held += static_cast<int64_t>(pt.table(i).size());
    CHECK_EQ(held, a.used_count());
  }
  for (int s = 0; s < slots; ++s) pt.close(s);
  CHECK_EQ(a.free_count(), a.total());
}

int main(int argc, char** argv) { return check::run_all(argc, argv); }
