// Every CUDA runtime call and every kernel launch goes through these checks, which turn a failure
// into an EngineError naming the call, file and line (out-of-memory keeps its own kind).
#pragma once
#include <cuda_runtime_api.h>

#include <string>

#include "common/error.h"

namespace dse::cuda {

[[noreturn]] inline void cuda_fail(cudaError_t e, const char* what, const char* file, int line) {
  const ErrorKind kind = e == cudaErrorMemoryAllocation ? ErrorKind::kOutOfMemory : ErrorKind::kInternal;
  fail(kind, std::string("CUDA error ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ") in " + what +
                 " at " + file + ":" + std::to_string(line));
}

}  // namespace dse::cuda

#define CUDA_CHECK(expr)                                                            \
  do {                                                                              \
    cudaError_t e_ = (expr);                                                        \
    if (e_ != cudaSuccess) ::dse::cuda::cuda_fail(e_, #expr, __FILE__, __LINE__);   \
  } while (0)

// After every <<<...>>> launch: catches bad configurations at once (execution errors surface at
// the next synchronising call, which is checked too).
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())
