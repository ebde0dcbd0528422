// Per-sequence KV cache on the host. Each open slot owns [layers, capacity, width] floats, sized at
// sequence start so nothing is allocated while decoding. Dense models store K then V per token;
// MLA models store the compressed latent and the roped k_pe ([kv_lora_rank | qk_rope_dim]).
// A paged GPU cache can replace this behind the Backend interface without touching the scheduler.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace dse {

class KvCache {
 public:
  KvCache(int layers, int64_t width, int slots);

  // Allocates room for `capacity` tokens in `slot`; throws EngineError(kOutOfMemory) when it cannot.
  void open(int slot, int64_t capacity);
  void close(int slot);
  bool is_open(int slot) const;
  int64_t capacity(int slot) const;
  int slots() const { return static_cast<int>(slots_.size()); }
  int64_t width() const { return width_; }

  float* row(int slot, int layer, int64_t pos) {
    Slot& s = slots_[slot];
    return s.data.data() + (static_cast<int64_t>(layer) * s.capacity + pos) * width_;
  }
  // Start of a layer's rows; rows are contiguous with stride width().
  const float* layer_base(int slot, int layer) const {
    const Slot& s = slots_[slot];
    return s.data.data() + static_cast<int64_t>(layer) * s.capacity * width_;
  }
  size_t bytes_in_use() const;
  // Token positions reserved by the open slots (the sum of their capacities).
  int64_t tokens_reserved() const;

 private:
  struct Slot {
    std::vector<float> data;
    int64_t capacity = 0;
    bool open = false;
  };
  int layers_;
  int64_t width_;
  std::vector<Slot> slots_;
};

}  // namespace dse
