#include "loader/safetensors.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "common/error.h"

namespace dse {

MappedFile::MappedFile(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(ErrorKind::kBadCheckpoint, "cannot open " + path + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    fail(ErrorKind::kBadCheckpoint, "cannot stat " + path);
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      fail(ErrorKind::kBadCheckpoint, "cannot mmap " + path + ": " + std::strerror(errno));
    }
    data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

static bool file_exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

SafetensorsSource::SafetensorsSource(const std::string& model_dir) : dir_(model_dir) {
  std::vector<std::string> files;
  std::string index = model_dir + "/model.safetensors.index.json";
  if (file_exists(index)) {
    std::ifstream in(index);
    nlohmann::json j;
    try {
      in >> j;
    } catch (const std::exception& e) {
      fail(ErrorKind::kBadCheckpoint, "cannot parse " + index + ": " + e.what());
    }
    if (!j.contains("weight_map") || !j["weight_map"].is_object())
      fail(ErrorKind::kBadCheckpoint, index + " has no weight_map object");
    std::set<std::string> unique;
    for (auto& kv : j["weight_map"].items()) unique.insert(kv.value().get<std::string>());
    for (const auto& f : unique) files.push_back(model_dir + "/" + f);
  } else {
    DIR* d = ::opendir(model_dir.c_str());
    if (!d) fail(ErrorKind::kBadCheckpoint, "cannot open model folder " + model_dir);
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 12 && n.compare(n.size() - 12, 12, ".safetensors") == 0) files.push_back(model_dir + "/" + n);
    }
    ::closedir(d);
    std::sort(files.begin(), files.end());
  }
  if (files.empty()) fail(ErrorKind::kBadCheckpoint, "no *.safetensors file in " + model_dir);
  for (const auto& f : files) add_file(f);
}

SafetensorsSource::SafetensorsSource(const std::string& dir, const std::vector<std::string>& files) : dir_(dir) {
  for (const auto& f : files) add_file(f);
}

void SafetensorsSource::add_file(const std::string& path) {
  auto file = std::make_unique<MappedFile>(path);
  const size_t size = file->size();
  if (size < 8) fail(ErrorKind::kBadCheckpoint, path + " is truncated: " + std::to_string(size) + " bytes, no header");
  uint64_t header_len = 0;
  std::memcpy(&header_len, file->data(), 8);  // little-endian on every supported target
  if (header_len > size - 8)
    fail(ErrorKind::kBadCheckpoint, path + " is truncated: header of " + std::to_string(header_len) +
                                        " bytes but file has " + std::to_string(size) + " bytes");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(file->data() + 8, file->data() + 8 + header_len);
  } catch (const std::exception& e) {
    fail(ErrorKind::kBadCheckpoint, path + " has a corrupt header: " + e.what());
  }
  const uint8_t* base = file->data() + 8 + header_len;
  const size_t data_size = size - 8 - header_len;
  for (auto& kv : header.items()) {
    if (kv.key() == "__metadata__") continue;
    const auto& t = kv.value();
    TensorView v;
    v.name = kv.key();
    try {
      std::string dt = t.at("dtype").get<std::string>();
      v.dtype = dtype_from_safetensors(dt);
      if (v.dtype == DType::kUnknown)
        fail(ErrorKind::kUnsupported, "tensor '" + v.name + "' in " + path + " has unsupported dtype " + dt +
                                          " (supported: F32, BF16, F16, F8_E4M3)");
      v.shape = t.at("shape").get<std::vector<int64_t>>();
      auto off = t.at("data_offsets").get<std::vector<uint64_t>>();
      if (off.size() != 2 || off[1] < off[0]) fail(ErrorKind::kBadCheckpoint, "tensor '" + v.name + "' has bad data_offsets");
      if (off[1] > data_size)
        fail(ErrorKind::kBadCheckpoint, path + " is truncated: tensor '" + v.name + "' ends at byte " +
                                            std::to_string(off[1]) + " of a " + std::to_string(data_size) +
                                            "-byte data section");
      v.data = base + off[0];
      v.nbytes = off[1] - off[0];
    } catch (const nlohmann::json::exception& e) {
      fail(ErrorKind::kBadCheckpoint, "tensor '" + v.name + "' in " + path + " has a bad header entry: " + e.what());
    }
    for (int64_t d : v.shape)
      if (d < 0) fail(ErrorKind::kBadCheckpoint, "tensor '" + v.name + "' has a negative dimension");
    if (static_cast<size_t>(v.numel()) * dtype_size(v.dtype) != v.nbytes)
      fail(ErrorKind::kBadCheckpoint, "tensor '" + v.name + "' in " + path + " holds " + std::to_string(v.nbytes) +
                                          " bytes, shape " + shape_str(v.shape) + " of " + dtype_name(v.dtype) +
                                          " needs " + std::to_string(v.numel() * dtype_size(v.dtype)));
    views_[v.name] = v;
  }
  files_.push_back(std::move(file));
}

std::vector<std::string> SafetensorsSource::names() const {
  std::vector<std::string> out;
  for (const auto& kv : views_) out.push_back(kv.first);
  return out;
}

bool SafetensorsSource::has(const std::string& name) const { return views_.count(name) != 0; }

const TensorView& SafetensorsSource::get(const std::string& name) const {
  auto it = views_.find(name);
  if (it == views_.end()) fail(ErrorKind::kBadCheckpoint, "missing tensor '" + name + "' in checkpoint " + dir_);
  return it->second;
}

}  // namespace dse
