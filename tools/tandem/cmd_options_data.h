// The data flags shared by train and compare beyond --data/--train/--test:
// the generic csv format (files, separator, header, column mapping) and the
// split strategy. Each mirrors a config-file key (docs/config.md).
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

#include "tandem/config/experiment_config.h"

namespace tandem::cli {

struct DataOptions {
  std::string format, ratings_file, items_file, users_file, separator, list_separator, split, item_key;
  bool no_header = false;
  std::optional<std::string> user_column, item_column, rating_column, timestamp_column,
      weight_column, item_id_column, title_column, user_id_column;
  std::optional<double> time_cut_fraction;
  std::optional<int64_t> time_cut_timestamp;

  void add_to(CLI::App& app);
  // Applies the flags that were given (file paths made absolute).
  void apply(ExperimentConfig& c) const;
};

}  // namespace tandem::cli
