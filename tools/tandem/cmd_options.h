// Options shared by compare and train: a preset plus explicit overrides.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

#include "tandem/app/experiment.h"
#include "tandem/app/experiment_config.h"
#include "cmd_options_data.h"

namespace tandem::cli {

struct ExperimentOptions {
  std::string preset = "kerasrs";
  bool preset_given = false;
  std::string config_file;  // --config: a TOML experiment (flags override it)
  std::string data, train_file, test_file;
  std::optional<uint64_t> seed;
  std::optional<int64_t> train_count, test_count, embedding_dim, batch_size, k, eval_batch_size;
  std::vector<int64_t> layers;
  bool layers_given = false;
  std::optional<float> learning_rate, ranking_weight, retrieval_weight;
  std::optional<int> epochs, threads;
  std::string parallelism, memory_budget;
  bool full_score_matrix = false;
  bool json = false;
  bool quiet = false;
  DataOptions data_options;  // --format, --ratings-file, column flags, --split

  // Registers the options; `with_weights` adds --ranking-weight/--retrieval-weight.
  void add_to(CLI::App& app, bool with_weights);
  // The preset (or --config file) with every given flag applied and the data
  // located.
  ExperimentConfig resolve() const;
  // `base` (a checkpoint's config) with only the flags that were given
  // applied; data locations given are resolved as in resolve().
  ExperimentConfig apply_given(ExperimentConfig base) const;

 private:
  void apply_overrides(ExperimentConfig& c) const;
};

// Prints one line per epoch to stderr (nothing when quiet).
EpochCallback epoch_printer(const ExperimentConfig& config, bool quiet);

}  // namespace tandem::cli
