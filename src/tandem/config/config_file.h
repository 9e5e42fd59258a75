// Experiments described in a TOML file (toml++ from Debian), e.g.
//
//   preset = "tfrs"            # the base every other key overrides
//   [model]
//   embedding_dim = 64
//   layers = [256, 128]
//   [tasks]
//   ranking_weight = 1.0
//   retrieval_weight = 0.3
//
// Tables and keys: see docs/config.md and examples/*.toml. Parsing is strict:
// an unknown table or key, a wrong type or a bad value is a tandem::Error of
// the form "FILE:LINE: ..." naming the key. Relative paths in [data] are
// taken relative to the file's own directory.
#pragma once

#include <string>
#include <string_view>

#include "tandem/config/experiment_config.h"

namespace tandem {

// The experiment `text` describes. `source` names it in errors (a path);
// `preset_override`, when not empty, replaces the file's `preset` (the
// command line's --preset wins over the file). Data locations are left as
// written (relative ones resolved against `base_dir` when it is not empty).
ExperimentConfig parse_config_toml(std::string_view text, const std::string& source,
                                   const std::string& preset_override = "",
                                   const std::string& base_dir = "");

// Reads and parses a file (errors name it).
ExperimentConfig load_config_file(const std::string& path, const std::string& preset_override = "");

// The configuration as TOML in the same schema, every key written out:
// parse_config_toml(config_to_toml(c)) == c.
std::string config_to_toml(const ExperimentConfig& c);

}  // namespace tandem
