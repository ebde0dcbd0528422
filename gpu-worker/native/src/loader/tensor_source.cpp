#include "loader/tensor_source.h"

#include "common/error.h"

namespace dse {

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

void MemorySource::add(const std::string& name, DType dtype, std::vector<int64_t> shape,
                       std::vector<uint8_t> bytes) {
  auto& buf = buffers_[name];
  buf = std::move(bytes);
  TensorView v;
  v.name = name;
  v.dtype = dtype;
  v.shape = std::move(shape);
  v.data = buf.data();
  v.nbytes = buf.size();
  views_[name] = v;
}

bool MemorySource::has(const std::string& name) const { return views_.count(name) != 0; }

const TensorView& MemorySource::get(const std::string& name) const {
  auto it = views_.find(name);
  if (it == views_.end()) fail(ErrorKind::kBadCheckpoint, "missing tensor '" + name + "' in " + where());
  return it->second;
}

}  // namespace dse
