#include "common/error.h"
#include "model/deepseek_model.h"
#include "model/dense_model.h"

namespace dse {

std::unique_ptr<Model> make_model(const ModelConfig& cfg, const TensorSource& src, const LoadOptions& opts) {
  switch (cfg.arch) {
    case Arch::kLlama:
    case Arch::kQwen2:
      return make_dense_model(cfg, src, opts);
    case Arch::kDeepseekV2:
    case Arch::kDeepseekV3:
      return make_deepseek_model(cfg, src, opts);
  }
  fail(ErrorKind::kUnsupported, "unknown architecture " + cfg.arch_name);
}

}  // namespace dse
