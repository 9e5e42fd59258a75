// The experiment config's data options beyond the MovieLens layouts: the
// generic "csv" format's files and column mapping, and the split strategy.
// Kept out of experiment_config.cc so that file stays small; this is its
// validate() part for those fields.
#pragma once

#include "tandem/config/experiment_config.h"

namespace tandem {

// Throws tandem::Error naming the setting: a csv spec without format "csv"
// (or the reverse without a ratings file), a bad separator or mapping, a
// time cut fraction outside (0, 1], a time-based split with --train/--test.
void validate_data_options(const ExperimentConfig& c);

}  // namespace tandem
