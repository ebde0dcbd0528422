#include "lora/lora_config.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>

#include "common/error.h"

namespace dse {

using nlohmann::json;

namespace {

// PEFT's get_pattern_key: a pattern key matches a module whose name ends with it at a dot boundary.
template <typename T>
const T* pattern_value(const std::map<std::string, T>& patterns, const std::string& module) {
  for (const auto& [key, value] : patterns)
    if (std::regex_match(module, std::regex("(^|.*\\.)" + key + "$"))) return &value;
  return nullptr;
}

bool truthy(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) return !it->get<std::string>().empty() && it->get<std::string>() != "none";
  if (it->is_array() || it->is_object()) return !it->empty();
  return true;
}

}  // namespace

bool LoraConfig::targets(const std::string& module) const {
  if (!target_regex.empty()) return std::regex_match(module, std::regex(target_regex));
  for (const auto& t : target_list) {
    if (module == t) return true;
    if (module.size() > t.size() && module.compare(module.size() - t.size(), t.size(), t) == 0 &&
        module[module.size() - t.size() - 1] == '.')
      return true;
  }
  return false;
}

int LoraConfig::rank_of(const std::string& module) const {
  const int* p = pattern_value(rank_pattern, module);
  return p ? *p : r;
}

double LoraConfig::scaling_of(const std::string& module) const {
  const double* a = pattern_value(alpha_pattern, module);
  const double alpha_m = a ? *a : alpha;
  const int r_m = rank_of(module);
  return use_rslora ? alpha_m / std::sqrt(static_cast<double>(r_m)) : alpha_m / r_m;
}

LoraConfig parse_lora_config(const std::string& json_text, const std::string& origin) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const std::exception& e) {
    fail(ErrorKind::kBadCheckpoint, origin + " is not valid JSON: " + e.what());
  }
  if (!j.is_object()) fail(ErrorKind::kBadCheckpoint, origin + " is not a JSON object");
  LoraConfig c;
  try {
    const std::string type = j.value("peft_type", std::string("LORA"));
    if (type != "LORA") fail(ErrorKind::kUnsupported, origin + ": peft_type " + type + " is not served (LORA only)");
    if (truthy(j, "use_dora")) fail(ErrorKind::kUnsupported, origin + ": DoRA adapters (use_dora) are not served");
    if (truthy(j, "bias")) fail(ErrorKind::kUnsupported, origin + ": trained biases (bias != \"none\") are not served");
    if (truthy(j, "modules_to_save"))
      fail(ErrorKind::kUnsupported, origin + ": modules_to_save (fully trained modules) are not served");
    if (truthy(j, "layers_to_transform") || truthy(j, "layer_replication"))
      fail(ErrorKind::kUnsupported, origin + ": layers_to_transform / layer_replication are not served");
    if (!j.contains("r") || !j["r"].is_number_integer() || j["r"].get<int>() <= 0)
      fail(ErrorKind::kBadCheckpoint, origin + ": 'r' must be a positive integer");
    if (!j.contains("lora_alpha") || !j["lora_alpha"].is_number())
      fail(ErrorKind::kBadCheckpoint, origin + ": 'lora_alpha' must be a number");
    c.r = j["r"].get<int>();
    c.alpha = j["lora_alpha"].get<double>();
    c.use_rslora = j.value("use_rslora", false);
    c.fan_in_fan_out = j.value("fan_in_fan_out", false);
    if (j.contains("base_model_name_or_path") && j["base_model_name_or_path"].is_string())
      c.base_model = j["base_model_name_or_path"].get<std::string>();
    const json& t = j.contains("target_modules") ? j["target_modules"] : json();
    if (t.is_string()) {
      c.target_regex = t.get<std::string>();
      std::regex check(c.target_regex);  // a bad pattern fails here, named, not at the first match
    } else if (t.is_array() && !t.empty()) {
      c.target_list = t.get<std::vector<std::string>>();
    } else {
      fail(ErrorKind::kBadCheckpoint, origin + ": 'target_modules' must be a non-empty list or a regex string");
    }
    if (j.contains("rank_pattern") && j["rank_pattern"].is_object())
      c.rank_pattern = j["rank_pattern"].get<std::map<std::string, int>>();
    if (j.contains("alpha_pattern") && j["alpha_pattern"].is_object())
      c.alpha_pattern = j["alpha_pattern"].get<std::map<std::string, double>>();
    for (const auto& [k, v] : c.rank_pattern)
      if (v <= 0) fail(ErrorKind::kBadCheckpoint, origin + ": rank_pattern '" + k + "' must be positive");
  } catch (const nlohmann::json::exception& e) {
    fail(ErrorKind::kBadCheckpoint, origin + " has a field of the wrong type: " + e.what());
  } catch (const std::regex_error& e) {
    fail(ErrorKind::kBadCheckpoint, origin + " has a bad regular expression: " + e.what());
  }
  return c;
}

}  // namespace dse
