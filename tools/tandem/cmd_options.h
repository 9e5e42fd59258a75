// Options shared by compare and train: a preset plus explicit overrides.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

#include "tandem/experiment/experiment.h"
#include "tandem/config/experiment_config.h"
#include "feature_options.h"
#include "cmd_optimizer_options.h"
#include "cmd_options_data.h"

namespace tandem::cli {

// Evaluation settings that train, compare and evaluate share.
struct EvaluationOptions {
  std::vector<int64_t> metrics_at;
  bool exclude_seen = false;
  std::optional<float> positive_threshold;

  void add_to(CLI::App& app);
  void apply(ExperimentConfig& c) const;
};

struct ExperimentOptions {
  std::string preset = "kerasrs";
  bool preset_given = false;
  std::string config_file;  // --config: a TOML experiment (flags override it)
  std::string data, train_file, test_file;
  std::optional<uint64_t> seed, init_seed;
  std::optional<int64_t> train_count, test_count, embedding_dim, batch_size, k, eval_batch_size;
  std::vector<int64_t> layers;
  bool layers_given = false;
  std::optional<float> learning_rate, ranking_weight, retrieval_weight;
  OptimizerOptions optimizer;  // --optimizer, --lr-schedule, ...
  std::optional<int> epochs, threads;
  std::string parallelism, memory_budget, shuffle;
  std::string ranking_loss;
  std::optional<float> ranking_margin, ranking_positive_threshold;
  bool full_score_matrix = false;
  FeatureOptions features;
  std::optional<float> temperature;
  std::optional<int64_t> hard_negatives, mixed_negatives;
  bool remove_accidental_hits = false, logq_correction = false;
  EvaluationOptions evaluation;
  // Multi-task architecture and task weighting (model/multitask_architecture.h).
  std::string multitask, task_weighting;
  std::optional<int64_t> experts, shared_experts, task_experts, expert_dim;
  std::vector<std::string> tasks;  // --task NAME:binary:WEIGHT[:THRESHOLD] (config/task_config.h)
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

// An RMSE as the text output shows it: "0.2503", or "n/a (...)" when the
// ranking loss predicts no rating (EvalResult::rmse is NaN then).
std::string rmse_text(double rmse, const ExperimentConfig& config);

// Prints one line per epoch to stderr (nothing when quiet).
EpochCallback epoch_printer(const ExperimentConfig& config, bool quiet);

}  // namespace tandem::cli
