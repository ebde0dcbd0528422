#include "test_util.h"

#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#ifndef DSE_FIXTURES_DIR
#error "DSE_FIXTURES_DIR must point at the tiny reference models"
#endif

namespace testutil {

std::string fixtures_dir() { return DSE_FIXTURES_DIR; }
std::string model_dir(const std::string& name) { return fixtures_dir() + "/" + name; }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_file(path)); }

std::string temp_dir(const std::string& name) {
  std::string base = std::string(DSE_TEST_TMP) + "/" + name;
  std::string cmd = "rm -rf '" + base + "' && mkdir -p '" + base + "'";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("cannot create " + base);
  return base;
}

void copy_file(const std::string& from, const std::string& to) { write_file(to, read_file(from)); }

std::map<std::string, RawTensor> read_safetensors(const std::string& path) {
  std::string all = read_file(path);
  uint64_t n;
  std::memcpy(&n, all.data(), 8);
  auto header = nlohmann::json::parse(all.substr(8, n));
  std::map<std::string, RawTensor> out;
  for (auto& kv : header.items()) {
    if (kv.key() == "__metadata__") continue;
    RawTensor t;
    t.dtype = dse::dtype_from_safetensors(kv.value()["dtype"]);
    t.shape = kv.value()["shape"].get<std::vector<int64_t>>();
    auto off = kv.value()["data_offsets"].get<std::vector<uint64_t>>();
    t.bytes.assign(all.begin() + 8 + n + off[0], all.begin() + 8 + n + off[1]);
    out[kv.key()] = std::move(t);
  }
  return out;
}

void write_safetensors(const std::string& path, const std::map<std::string, RawTensor>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  for (const auto& kv : tensors) {
    uint64_t begin = data.size();
    data.append(reinterpret_cast<const char*>(kv.second.bytes.data()), kv.second.bytes.size());
    header[kv.first] = {{"dtype", dse::dtype_name(kv.second.dtype)},
                        {"shape", kv.second.shape},
                        {"data_offsets", {begin, static_cast<uint64_t>(data.size())}}};
  }
  std::string h = header.dump();
  while (h.size() % 8) h += ' ';
  uint64_t n = h.size();
  std::string out(reinterpret_cast<const char*>(&n), 8);
  write_file(path, out + h + data);
}

RawTensor f32_tensor(const std::vector<int64_t>& shape, const std::vector<float>& values) {
  RawTensor t;
  t.dtype = dse::DType::kF32;
  t.shape = shape;
  t.bytes.resize(values.size() * 4);
  std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

std::vector<float> tensor_f32(const RawTensor& t) {
  std::vector<float> v(t.bytes.size() / 4);
  std::memcpy(v.data(), t.bytes.data(), t.bytes.size());
  return v;
}

std::vector<float> random_vec(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

}  // namespace testutil
