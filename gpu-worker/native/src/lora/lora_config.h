// adapter_config.json of a PEFT LoRA adapter, with PEFT's rules for a module's rank and scaling.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace dse {

struct LoraConfig {
  int r = 8;
  double alpha = 8;
  bool use_rslora = false;
  bool fan_in_fan_out = false;           // no effect on nn.Linear layers (PEFT resets it to false)
  std::vector<std::string> target_list;  // target_modules as a list ...
  std::string target_regex;              // ... or as a regex string (full match)
  std::map<std::string, int> rank_pattern;
  std::map<std::string, double> alpha_pattern;
  std::string base_model;

  bool targets(const std::string& module) const;
  int rank_of(const std::string& module) const;
  // lora_alpha / r, or lora_alpha / sqrt(r) with rsLoRA, after rank_pattern and alpha_pattern.
  double scaling_of(const std::string& module) const;
};

// Parses the file's text; `origin` names it in errors (kBadCheckpoint, or kUnsupported for PEFT
// options the engine does not serve).
LoraConfig parse_lora_config(const std::string& json_text, const std::string& origin);

}  // namespace dse
