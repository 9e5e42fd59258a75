// A loss-weight sweep: one model per (ranking weight, retrieval weight) pair,
// all trained on the same prepared split, recorded in a run directory:
//
//   RUN_DIR/run.json                 config, machine, start time, per variant
//                                    metrics, training time and per-epoch
//                                    losses, the Pareto front
//   RUN_DIR/models/<variant>.tandem  each trained model
//
// Weight pairs are always written ranking first: "1:0.3" is ranking weight
// 1, retrieval weight 0.3.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/evaluate/evaluation.h"
#include "tandem/artifact/run_result.h"
#include "tandem/config/experiment_config.h"
#include "tandem/evaluate/pareto.h"

namespace tandem {

// The weight pairs `tandem sweep` trains when none are given.
inline constexpr const char* kDefaultSweepWeights = "0:1,0.1:1,0.3:1,1:1,1:0.3,1:0.1,1:0";

// Parses "R:Q,R:Q,..." (ranking:retrieval), each entry optionally followed by
// one weight per extra task (R:Q:E1:E2...). Every weight must be finite and
// non-negative and one positive; an entry may not appear twice. Errors name
// the entry by position and text.
std::vector<TaskWeights> parse_weight_pairs(const std::string& spec);

// "ranking:retrieval" with the shortest decimal form of each weight
// ("0.1:1"): the variant's name in tables, charts and file names.
std::string weights_label(const TaskWeights& w);

struct SweepVariant {
  std::string label;       // weights_label(weights)
  TaskWeights weights;
  std::string model_file;  // relative to the run directory
  bool pareto = false;     // on the accuracy/RMSE Pareto front of its sweep
  double train_seconds = 0.0;
  EvalResult eval;
  std::vector<EpochStats> history;

  // RunResult::to_json's keys plus label, model_file and pareto.
  nlohmann::json to_json() const;
  // Also reads a RunResult's JSON (a model file's metrics), where label,
  // model_file and pareto are absent and get defaults.
  static SweepVariant from_json(const nlohmann::json& j);
};

struct SweepRecord {
  ExperimentConfig config;      // shared by all variants except the weights
  std::string started_at;       // UTC, ISO 8601; empty if not recorded
  nlohmann::json machine = nlohmann::json::object();  // see machine_info()
  std::string data_source;
  nlohmann::json data = nlohmann::json::object();      // split sizes, test coverage
  bool complete = false;        // false while (or if interrupted while) training
  double seconds = 0.0;         // wall time of the whole sweep so far
  std::vector<SweepVariant> variants;

  std::vector<TradeOffPoint> trade_offs() const;
  // Sets each variant's pareto flag from the current variants.
  void update_pareto();
  // Index of the balanced variant (see balanced_choice), if any.
  std::optional<size_t> balanced() const;
  // Index of the variant with these weights ("1:1" or "1:1.0"); an error
  // listing the run's labels otherwise.
  size_t find(const std::string& label) const;

  nlohmann::json to_json() const;
  // `where` names the source in errors (e.g. the run.json path).
  static SweepRecord from_json(const nlohmann::json& j, const std::string& where);
};

// The model file name of a weight pair inside RUN_DIR/models.
std::string sweep_model_file_name(const TaskWeights& w);
// RUN_DIR/run.json, and writing it atomically.
std::string sweep_record_path(const std::string& run_dir);
void write_sweep_record(const std::string& run_dir, const SweepRecord& record);

// Reads RUN_DIR/run.json. A directory without one but with model files
// (`tandem compare --output-dir`) is read from the models' own metadata:
// one variant per *.tandem file, in file-name order, no machine or start time.
SweepRecord load_run_dir(const std::string& run_dir);

}  // namespace tandem
