// A saved model evaluated on a test set: what `tandem evaluate` prints and
// the Python module's Model.evaluate() returns, from one place.
#pragma once

#include <nlohmann/json.hpp>

#include "tandem/artifact/trained_model.h"
#include "tandem/evaluate/evaluation.h"
#include "tandem/prepare/prepared_data.h"

namespace tandem {

// The model's metrics on data.test (its training interactions as the seen
// items), with the model's config (k, thresholds, threads).
EvalResult evaluate_trained_model(const TrainedModel& m, const PreparedData& data);

// `tandem evaluate --json`'s object without its "model" key: the metrics,
// the preset, and what happened to the test pairs ("test").
nlohmann::json evaluation_json(const TrainedModel& m, const EvalResult& r, const PreparedData& data);

}  // namespace tandem
