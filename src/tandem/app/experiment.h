// Train one model on prepared data, evaluate it, and the tutorials' three-way
// comparison (rating-only, retrieval-only, joint) on one shared split.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/app/evaluation.h"
#include "tandem/app/prepared_data.h"
#include "tandem/app/trained_model.h"
#include "tandem/train/trainer.h"

namespace tandem {

struct RunResult {
  std::string model;  // "rating", "retrieval", "joint" or "custom"
  ExperimentConfig config;
  std::vector<EpochStats> history;
  double train_seconds = 0.0;
  EvalResult eval;
  TestCoverage coverage;
  // One flat JSON object: model, k, topk_accuracy, rmse, train_seconds, ...
  nlohmann::json to_json() const;
};

// Per-epoch history as RunResult::to_json writes it ("epochs"), and back;
// errors name the missing or mistyped field.
nlohmann::json epochs_to_json(const std::vector<EpochStats>& history);
std::vector<EpochStats> epochs_from_json(const nlohmann::json& epochs);

using EpochCallback = std::function<void(const std::string& model, const EpochStats&)>;

// Trains a model with `config` on `data`, evaluates it on data.test and
// returns the trained model (metrics filled in) and its result.
std::pair<TrainedModel, RunResult> train_and_evaluate(const ExperimentConfig& config,
                                                      const PreparedData& data,
                                                      const std::string& name,
                                                      const EpochCallback& on_epoch = {});

// The tutorials' variants: (name, ranking weight, retrieval weight).
struct Variant {
  std::string name;
  TaskWeights weights;
};
std::vector<Variant> tutorial_variants();

// Applies the configured BLAS thread count (0 leaves the library default).
void apply_threads(const ExperimentConfig& config);

}  // namespace tandem
