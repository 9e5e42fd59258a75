// What one training run produced, as the CLI prints it and model files and
// sweep records store it: the config, the per-epoch history, the evaluation.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/config/experiment_config.h"
#include "tandem/evaluate/evaluation.h"
#include "tandem/prepare/prepared_data.h"
#include "tandem/train/step_traffic.h"
#include "tandem/train/trainer.h"

namespace tandem {

struct RunResult {
  std::string model;  // "rating", "retrieval", "joint" or "custom"
  ExperimentConfig config;
  std::vector<EpochStats> history;
  double train_seconds = 0.0;
  // Where the training steps' time went (tandem train --profile prints it;
  // not part of to_json, so model files and sweep records stay as they were).
  StepProfile profile;
  // The estimated bytes per step, phase by phase, from the model's shapes
  // and the rows the steps touched (step_traffic.h; like the profile, not
  // part of to_json).
  StepTraffic traffic;
  EvalResult eval;
  TestCoverage coverage;
  // Trained on several ranks: world_size, and per rank its share of the
  // tables, its peak memory and the bytes it sent by kind (tandem train
  // --json prints it; not part of to_json). Null for one process.
  nlohmann::json distributed;
  // One flat JSON object: model, k, topk_accuracy, rmse, train_seconds, ...
  nlohmann::json to_json() const;
};

// Per-epoch history as RunResult::to_json writes it ("epochs"), and back;
// errors name the missing or mistyped field.
nlohmann::json epochs_to_json(const std::vector<EpochStats>& history);
std::vector<EpochStats> epochs_from_json(const nlohmann::json& epochs);

}  // namespace tandem
