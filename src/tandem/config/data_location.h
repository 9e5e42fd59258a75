// Where a run's data is, shared by the CLI's flags and the Python module's
// keywords: an explicit directory, else the config's, else the default
// search ($TANDEM_DATA, ../shared/data/ml-100k); explicit train/test files
// made absolute.
#pragma once

#include <string>

#include "tandem/config/experiment_config.h"

namespace tandem {

// Sets c.data_dir (absolute, normalised) and c.train_file/c.test_file from
// `data_dir` (empty: c.data_dir, then the search) and the files given
// (empty: c's). With explicit files or the csv format a directory is only
// used when one is found (titles are optional then); need_data false (a
// store's data settings apply) looks for nothing. Throws tandem::Error
// listing the places looked at.
void locate_data(ExperimentConfig& c, const std::string& data_dir, const std::string& train_file,
                 const std::string& test_file, bool need_data = true);

}  // namespace tandem
