// Weight storage: the loader's matrices sit in transparent huge pages where the kernel offers them
// (decode streams every weight per token; 4 KiB pages cost it a third of one core's bandwidth here).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <fstream>
#include <string>

#include "backend/cpu_backend.h"
#include "check.h"
#include "loader/model_config.h"
#include "loader/tensor_source.h"
#include "loader/weight_loader.h"
#include "memory/huge_pages.h"
#include "memory/weight_arena.h"

#include <sys/mman.h>

using namespace dse;

namespace {

constexpr float kOne = 1.f;

// "always [madvise] never" -> "madvise"; empty where the kernel has no THP.
std::string thp_mode() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string all;
  std::getline(in, all);
  const auto a = all.find('['), b = all.find(']');
  return a == std::string::npos || b == std::string::npos ? "" : all.substr(a + 1, b - a - 1);
}

// Whether the kernel hands out huge pages now: a 64 MiB region advised before its first touch,
// measured. A host with fragmented memory may give none even in "madvise" mode.
double control_huge_share() {
  constexpr size_t kBytes = size_t{64} << 20;
  WeightArena arena;
  char* p = static_cast<char*>(arena.allocate(kBytes));
  std::memset(p, 1, kBytes);
  return static_cast<double>(arena.huge_page_bytes()) / kBytes;
}

std::vector<uint8_t> pattern_bytes(size_t n, uint32_t seed) {
  std::vector<uint8_t> b(n);
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    // bf16 with exponents 117..124 and both signs: finite, no denormals
    b[i] = i % 2 ? static_cast<uint8_t>((x & 0x80) | (0x3a + (x >> 8) % 4)) : static_cast<uint8_t>(x);
  }
  return b;
}

template <typename V>
void add_range(std::vector<std::pair<const void*, size_t>>& ranges, const V& v) {
  if (!v.empty()) ranges.emplace_back(v.data(), v.size() * sizeof(v[0]));
}

}  // namespace

TEST(arena_allocations) {
  auto arena = std::make_shared<WeightArena>();
  char* a = static_cast<char*>(arena->allocate(100));
  char* b = static_cast<char*>(arena->allocate(1));
  CHECK(reinterpret_cast<uintptr_t>(a) % (size_t{1} << 21) == 0);  // a mapping starts on a 2 MiB boundary
  CHECK(reinterpret_cast<uintptr_t>(b) % 64 == 0 && b >= a + 100);
  CHECK(a[0] == 0 && a[99] == 0 && b[0] == 0);
  CHECK_EQ(arena->used(), size_t{192});
  // larger than the reserve: a mapping of its own; the first one still takes small allocations
  char* big = static_cast<char*>(arena->allocate((size_t{1} << 30) + 5));
  CHECK(reinterpret_cast<uintptr_t>(big) % (size_t{1} << 21) == 0);
  big[(size_t{1} << 30) + 4] = 7;
  char* c = static_cast<char*>(arena->allocate(64));
  CHECK(c == b + 64);
  // vectors: storage in the arena, moves keep it there, copies go to the heap
  WeightVec<float> v{ArenaAllocator<float>(arena)};
  v.assign(1000, 2.f);
  CHECK(reinterpret_cast<char*>(v.data()) >= c + 64 && reinterpret_cast<char*>(v.data()) < a + (size_t{1} << 30));
  WeightVec<float> moved = std::move(v);
  CHECK(moved.get_allocator().arena() == arena && moved.size() == 1000 && moved[999] == 2.f);
  WeightVec<float> copy = moved;
  CHECK(copy.get_allocator().arena() == nullptr && copy == moved);
  std::weak_ptr<WeightArena> gone = arena;
  arena.reset();
  CHECK(!gone.expired());  // `moved` still holds it
  moved = WeightVec<float>();
  CHECK(gone.expired());
}

// The CPU backend's weights sit in huge pages, small matrices and matrix ends included: one
// DeepSeek-R1-Distill-Qwen-1.5B layer (q/o 4.7 MB, k/v 0.8 MB, gate/up/down 27.5 MB in bf16), loaded
// through CpuBackend as the engine does. Per-matrix allocations left k/v and the unaligned ends of
// the others on 4 KiB pages (~90% in huge pages on this shape).
TEST(cpu_backend_weights_sit_in_huge_pages) {
  const std::string mode = thp_mode();
  if (mode.empty() || mode == "never") {
    std::printf("  (skipped: transparent huge pages are '%s' on this kernel)\n", mode.c_str());
    return;
  }
  const double control = control_huge_share();
  if (control < 0.95) {
    std::printf("  (skipped: THP mode %s, but an advised 64 MiB region got only %.0f%% huge pages now: the kernel "
                "has none to give)\n", mode.c_str(), 100 * control);
    return;
  }
  const ModelConfig cfg = parse_model_config(R"({"architectures":["Qwen2ForCausalLM"],"hidden_size":1536,
    "intermediate_size":8960,"num_hidden_layers":1,"num_attention_heads":12,"num_key_value_heads":2,
    "vocab_size":1000,"max_position_embeddings":64,"rms_norm_eps":1e-6,"rope_theta":10000,
    "tie_word_embeddings":false})", "test");
  const int64_t H = 1536, I = 8960, kv = 256, V = 1000;
  MemorySource src;
  uint32_t seed = 1;
  auto matrix = [&](const std::string& name, int64_t rows, int64_t cols) {
    src.add(name, DType::kBF16, {rows, cols}, pattern_bytes(static_cast<size_t>(rows * cols * 2), seed++));
  };
  auto vec = [&](const std::string& name, int64_t n) {
    std::vector<uint8_t> b(static_cast<size_t>(n * 4));
    for (int64_t i = 0; i < n; ++i) std::memcpy(b.data() + 4 * i, &kOne, 4);
    src.add(name, DType::kF32, {n}, b);
  };
  matrix("model.embed_tokens.weight", V, H);
  matrix("lm_head.weight", V, H);
  vec("model.norm.weight", H);
  const std::string p = "model.layers.0.";
  vec(p + "input_layernorm.weight", H);
  vec(p + "post_attention_layernorm.weight", H);
  matrix(p + "self_attn.q_proj.weight", H, H);
  matrix(p + "self_attn.k_proj.weight", kv, H);
  matrix(p + "self_attn.v_proj.weight", kv, H);
  matrix(p + "self_attn.o_proj.weight", H, H);
  vec(p + "self_attn.q_proj.bias", H);
  vec(p + "self_attn.k_proj.bias", kv);
  vec(p + "self_attn.v_proj.bias", kv);
  matrix(p + "mlp.gate_proj.weight", I, H);
  matrix(p + "mlp.up_proj.weight", I, H);
  matrix(p + "mlp.down_proj.weight", H, I);
  for (bool int8 : {false, true}) {
    BackendOptions bo;
    bo.threads = 1;
    bo.load.int8 = int8;
    CpuBackend backend(cfg, src, bo);
    std::vector<std::pair<const void*, size_t>> ranges;
    size_t bytes = 0, arrays = 0;
    for (const auto& [name, target] : backend.model().lora_targets()) {
      const Weight& w = *target.weight;
      add_range(ranges, w.bf16);
      add_range(ranges, w.i8);
      add_range(ranges, w.scale);
      bytes += w.bytes();
      arrays += int8 && !w.panels ? 2 : 1;  // int8 by row: codes and scales; in panels: both in one array
    }
    CHECK_EQ(ranges.size(), arrays);
    const size_t huge = huge_page_bytes(ranges);
    std::printf("  %s: %zu of %zu bytes of the layer's 7 matrices in huge pages (THP mode %s, control %.0f%%)\n",
                int8 ? "int8" : "bf16", huge, bytes, mode.c_str(), 100 * control);
    CHECK(huge >= bytes / 100 * 95);
  }
}

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
