#include "tandem/experiment/model_evaluation.h"

namespace tandem {

EvalResult evaluate_trained_model(const TrainedModel& m, const PreparedData& data) {
  const SeenItems seen{m.seen_offsets, m.seen_items};  // what the model was trained on
  return evaluate(*m.model, m.config, m.catalogue, data.test, data.test_ratings, {}, &seen);
}

nlohmann::json evaluation_json(const TrainedModel& m, const EvalResult& r, const PreparedData& data) {
  nlohmann::json j = r.to_json();
  j["preset"] = m.config.preset;
  j["test"] = data.coverage.to_json();
  return j;
}

}  // namespace tandem
