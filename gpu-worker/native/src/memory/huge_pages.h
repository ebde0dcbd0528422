// Transparent huge pages for the weights. Decode streams every weight once per token; with 4 KiB
// pages that is a TLB miss per 4 KiB and a hardware prefetcher that stops at every page boundary,
// and one core read ~19 GB/s here against ~29 GB/s from 2 MiB pages. Most kernels ship THP in
// "madvise" mode, so the storage is advised before its pages are first touched.
#pragma once
#include <cstddef>
#include <utility>
#include <vector>

namespace dse {

// Asks for huge pages on the 2 MiB-aligned part of [p, p + bytes) (Linux MADV_HUGEPAGE; a no-op
// elsewhere, with THP off, or for a range holding no aligned 2 MiB). Only pages not yet touched
// are affected, so call it before writing.
void advise_huge_pages(void* p, size_t bytes);

// Bytes in huge pages of the memory mappings overlapping [p, p + bytes), at most `bytes` (Linux, from
// /proc/self/smaps; 0 elsewhere). A mapping reaching past the range counts whole.
size_t huge_page_bytes(const void* p, size_t bytes);
// The same over several ranges, each mapping counted once; at most the ranges' total.
size_t huge_page_bytes(const std::vector<std::pair<const void*, size_t>>& ranges);

// Resizes an empty vector to n values whose storage was advised before it was zero-filled.
template <typename T, typename A>
void resize_huge(std::vector<T, A>& v, size_t n) {
  v.reserve(n);  // allocates without touching the pages
  advise_huge_pages(v.data(), n * sizeof(T));
  v.resize(n);
}

}  // namespace dse
