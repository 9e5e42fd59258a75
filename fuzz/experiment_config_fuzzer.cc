// JSON text into ExperimentConfig::from_json, the reader of the "config"
// object every model file carries (load_model hands it whatever JSON value
// the file holds there).
#include <cstddef>
#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

#include "fuzz_support.h"
#include "tandem/config/experiment_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto text = tandem::fuzz::as_text(data, size);
  // Text that is not JSON never reaches the config reader: the model-file
  // decoder refuses it first (and is fuzzed on its own).
  const auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  std::optional<tandem::ExperimentConfig> config;
  tandem::fuzz::accepts([&] { config = tandem::ExperimentConfig::from_json(j); });
  if (!config) return 0;
  // An accepted config is written into the model file and must read back as
  // itself; an Error here escapes and is a finding.
  const nlohmann::json saved = config->to_json();
  FUZZ_REQUIRE(tandem::ExperimentConfig::from_json(saved).to_json() == saved);
  return 0;
}
