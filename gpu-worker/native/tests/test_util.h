// Helpers shared by the test binaries: fixture paths, golden files, a safetensors writer for
// synthetic and deliberately broken checkpoints, and random data.
#pragma once
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/dtype.h"

namespace testutil {

std::string fixtures_dir();
std::string model_dir(const std::string& name);
nlohmann::json read_json(const std::string& path);
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& bytes);
// Fresh empty folder under the build's temp area.
std::string temp_dir(const std::string& name);
void copy_file(const std::string& from, const std::string& to);

struct RawTensor {
  dse::DType dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};
std::map<std::string, RawTensor> read_safetensors(const std::string& path);
void write_safetensors(const std::string& path, const std::map<std::string, RawTensor>& tensors);
RawTensor f32_tensor(const std::vector<int64_t>& shape, const std::vector<float>& values);
std::vector<float> tensor_f32(const RawTensor& t);

std::vector<float> random_vec(size_t n, uint32_t seed, float scale = 1.f);

}  // namespace testutil
