// Memory-mapped safetensors checkpoints: one file, or a folder with many shards listed by
// model.safetensors.index.json (or simply every *.safetensors file in the folder).
#pragma once
#include <string>
#include <vector>

#include "loader/tensor_source.h"

namespace dse {

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

class SafetensorsSource : public TensorSource {
 public:
  // Opens the checkpoint in model_dir; validates every header so corrupt or truncated files fail
  // here, with the file named, rather than later inside a kernel.
  explicit SafetensorsSource(const std::string& model_dir);
  // Opens exactly `files` (e.g. a LoRA adapter's adapter_model.safetensors); `dir` names it in errors.
  SafetensorsSource(const std::string& dir, const std::vector<std::string>& files);
  bool has(const std::string& name) const override;
  const TensorView& get(const std::string& name) const override;
  std::string where() const override { return dir_; }
  std::vector<std::string> names() const;

 private:
  void add_file(const std::string& path);

  std::string dir_;
  std::vector<std::unique_ptr<MappedFile>> files_;
  std::map<std::string, TensorView> views_;
};

}  // namespace dse
