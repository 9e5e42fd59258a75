// Settings given as keywords (the Python module's `tandem.train(epochs=3,
// batch_size=4096)`): each keyword is a setting's TOML key, looked up in the
// registry (settings.h) and checked as a config file's value would be.
#pragma once

#include <nlohmann/json.hpp>

#include "tandem/config/experiment_config.h"

namespace tandem {

// Applies `keywords` (a JSON object) to `c`, in the registry's order of the
// settings they name. A keyword is
//  - a setting's TOML key ("batch_size"); a key that several tables share
//    ("seed": [split] and [training]) means the setting whose command-line
//    flag has that name (--seed: [split] seed), and the others are given by
//    their path;
//  - a setting's path ("training.seed"), as `**{"training.seed": 3}`;
//  - a table holding keys ("training": {"seed": 3}), as in TOML.
// Null unsets an optional setting. Paths (kPath) are made absolute against
// the working directory, as the flags' are. "preset" is not a keyword here
// (it chooses the base config). Throws tandem::Error naming the keyword:
// unknown (with the closest names), ambiguous, or a bad value (the
// registry's reason).
void apply_keyword_settings(ExperimentConfig& c, const nlohmann::json& keywords);

// Every name apply_keyword_settings accepts for a setting, for help and
// completion: its bare key when that is unambiguous (or it owns the flag),
// and its path.
std::vector<std::string> setting_keywords();

}  // namespace tandem
