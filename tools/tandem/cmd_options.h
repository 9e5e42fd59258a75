// Options shared by compare and train: a preset plus explicit overrides.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "tandem/experiment/experiment.h"
#include "tandem/config/experiment_config.h"
#include "setting_flags.h"

namespace tandem::cli {

struct ExperimentOptions {
  std::string preset = "kerasrs";
  bool preset_given = false;
  std::string config_file;  // --config: a TOML experiment (flags override it)
  // Data locations: resolved here (the data directory is searched for).
  std::string data, train_file, test_file;
  SettingFlags settings;  // every other setting's flag (settings.h)
  bool json = false;
  bool quiet = false;

  // Registers the options; `with_weights` adds --ranking-weight/--retrieval-weight.
  void add_to(CLI::App& app, bool with_weights);
  // The preset (or --config file) with every given flag applied and the data
  // located.
  // need_data false (training from a store): the data location is not
  // searched for; the store's data settings replace it.
  ExperimentConfig resolve(bool need_data = true) const;
  // `base` (a checkpoint's config) with only the flags that were given
  // applied; data locations given are resolved as in resolve().
  ExperimentConfig apply_given(ExperimentConfig base) const;
};

// An RMSE as the text output shows it: "0.2503", or "n/a (...)" when the
// ranking loss predicts no rating (EvalResult::rmse is NaN then).
std::string rmse_text(double rmse, const ExperimentConfig& config);

// Prints one line per epoch to stderr (nothing when quiet).
EpochCallback epoch_printer(const ExperimentConfig& config, bool quiet);

}  // namespace tandem::cli
