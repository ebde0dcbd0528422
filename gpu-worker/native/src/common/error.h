// Typed engine errors: every failure the caller can act on carries a kind, so the JNI layer can map
// it to the matching Java exception kind without parsing messages.
#pragma once
#include <stdexcept>
#include <string>

namespace dse {

enum class ErrorKind : int {
  kBadCheckpoint = 0,  // missing/corrupt/truncated files, missing tensors, wrong shapes
  kUnsupported = 1,    // unknown architecture, dtype or backend
  kBadRequest = 2,     // prompt too long, bad token id, bad sampling parameters
  kOutOfMemory = 3,
  kInternal = 4,
};

class EngineError : public std::runtime_error {
 public:
  EngineError(ErrorKind kind, const std::string& msg) : std::runtime_error(msg), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

[[noreturn]] inline void fail(ErrorKind kind, const std::string& msg) { throw EngineError(kind, msg); }

}  // namespace dse
