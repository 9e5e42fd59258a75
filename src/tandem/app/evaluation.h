// The tutorials' two metrics on a test set: factorized top-K accuracy over the
// whole catalogue (exact, blocked) and RMSE of the rating head.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/app/experiment_config.h"
#include "tandem/app/prepared_data.h"
#include "tandem/model/multitask_model.h"

namespace tandem {

struct EvalResult {
  int64_t k = 0;
  double topk_accuracy = 0.0;  // at k
  std::map<int64_t, double> accuracy_at;  // at 1, 5, 10, 50, 100 (and k)
  // On the label scale the model was trained on; NaN (JSON null) when the
  // ranking loss is not mse, whose head predicts no label (ranking_output.h).
  double rmse = 0.0;
  double topk_weight = 0.0;   // number of test pairs counted by the top-K metric
  int64_t evaluated = 0;
  double seconds = 0.0;
  nlohmann::json to_json() const;
  // Reads the fields to_json writes (extra keys are ignored, so a RunResult's
  // flat JSON parses too); errors name the field.
  static EvalResult from_json(const nlohmann::json& j);
};

// Top-K accuracy at k = 1, 5, 10, 50, 100 and config.k from the positives'
// ranks, weighted as the preset asks (Keras-RS: 5-star pairs only).
void fill_accuracy(EvalResult& r, const std::vector<int64_t>& ranks, const ExperimentConfig& config,
                   const std::vector<float>& test_ratings);

// `on_progress` (may be empty) sees (pairs ranked, total) after each chunk of
// config.eval_batch_size test pairs.
EvalResult evaluate(const MultiTaskModel& model, const ExperimentConfig& config,
                    const RetrievalCatalogue& catalogue, const Examples& test,
                    const std::vector<float>& test_ratings,
                    const std::function<void(int64_t done, int64_t total)>& on_progress = {});

}  // namespace tandem
