// Weight storage: the loader's matrices sit in transparent huge pages where the kernel offers them
// (decode streams every weight per token; 4 KiB pages cost it a third of one core's bandwidth here).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>

#include "check.h"
#include "loader/tensor_source.h"
#include "loader/weight_loader.h"
#include "memory/huge_pages.h"

using namespace dse;

namespace {

// "always [madvise] never" -> "madvise"; empty where the kernel has no THP.
std::string thp_mode() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string all;
  std::getline(in, all);
  const auto a = all.find('['), b = all.find(']');
  return a == std::string::npos || b == std::string::npos ? "" : all.substr(a + 1, b - a - 1);
}

}  // namespace

TEST(loaded_weights_sit_in_huge_pages) {
  const std::string mode = thp_mode();
  if (mode.empty() || mode == "never") {
    std::printf("  (skipped: transparent huge pages are '%s' on this kernel)\n", mode.c_str());
    return;
  }
  // 3072 x 2048 bf16 = 12 MiB: at least four aligned 2 MiB pages whatever the allocation's offset.
  const int64_t rows = 3072, cols = 2048;
  MemorySource src;
  std::vector<uint8_t> bytes(static_cast<size_t>(rows * cols * 2));
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + (i >> 12));
  src.add("w", DType::kBF16, {rows, cols}, bytes);
  for (bool int8 : {false, true}) {
    LoadOptions opts;
    opts.int8 = int8;
    Weight w = WeightLoader(src, opts).matrix("w", rows, cols);
    const void* data = int8 ? static_cast<const void*>(w.i8.data()) : static_cast<const void*>(w.bf16.data());
    const size_t n = int8 ? w.i8.size() : w.bf16.size() * 2;
    const size_t huge = huge_page_bytes(data, n);
    std::printf("  %s: %zu of %zu bytes in huge pages (THP mode %s)\n", int8 ? "int8" : "bf16", huge, n, mode.c_str());
    CHECK(huge >= n / 2);
    if (!int8) CHECK(std::equal(bytes.begin(), bytes.end(), reinterpret_cast<const uint8_t*>(data)));
  }
}

TEST(advice_outside_aligned_pages_is_harmless) {
  // Ranges holding no aligned 2 MiB page (and a null one) are left alone rather than rounded out.
  std::vector<char> small(4096, 1);
  advise_huge_pages(small.data(), small.size());
  advise_huge_pages(nullptr, 0);
  std::vector<int> v;
  resize_huge(v, 1000);
  CHECK(v.size() == 1000 && v[999] == 0);
}

TEST_MAIN()
