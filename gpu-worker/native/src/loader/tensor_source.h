// Read-only access to named checkpoint tensors, independent of where the bytes live: memory-mapped
// safetensors files for real checkpoints, an in-memory map for tests and the benchmark.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/dtype.h"

namespace dse {

struct TensorView {
  std::string name;
  DType dtype = DType::kUnknown;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t nbytes = 0;

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

std::string shape_str(const std::vector<int64_t>& shape);

class TensorSource {
 public:
  virtual ~TensorSource() = default;
  virtual bool has(const std::string& name) const = 0;
  // Throws EngineError(kBadCheckpoint) naming the tensor and the checkpoint when absent.
  virtual const TensorView& get(const std::string& name) const = 0;
  virtual std::string where() const = 0;
};

// Tensors held in owned buffers; used to build synthetic checkpoints.
class MemorySource : public TensorSource {
 public:
  void add(const std::string& name, DType dtype, std::vector<int64_t> shape, std::vector<uint8_t> bytes);
  bool has(const std::string& name) const override;
  const TensorView& get(const std::string& name) const override;
  std::string where() const override { return "<memory>"; }

 private:
  std::map<std::string, std::vector<uint8_t>> buffers_;
  std::map<std::string, TensorView> views_;
};

}  // namespace dse
