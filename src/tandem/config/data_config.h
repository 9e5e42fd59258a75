// The experiment config's data options beyond the MovieLens layouts: the
// generic "csv" format's files and column mapping, and the split strategy.
// Kept out of experiment_config.cc so that file stays small; these are its
// validate()/to_json()/from_json() parts for those fields.
#pragma once

#include <nlohmann/json.hpp>

#include "tandem/config/experiment_config.h"

namespace tandem {

// Throws tandem::Error naming the setting: a csv spec without format "csv"
// (or the reverse without a ratings file), a bad separator or mapping, a
// time cut fraction outside (0, 1], a time-based split with --train/--test.
void validate_data_options(const ExperimentConfig& c);

// Adds "split", "time_cut_fraction", "time_cut_timestamp" and "csv" to the
// config JSON's "data" object, and reads them back; absent keys (model files
// written before they existed) keep the defaults.
void data_options_to_json(const ExperimentConfig& c, nlohmann::json& data);
void data_options_from_json(const nlohmann::json& data, ExperimentConfig& c);

}  // namespace tandem
