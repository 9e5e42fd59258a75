// Recommendations for a few users from one trained model, through the
// library's serving path (Recommender: retrieve, exclude seen, rank by the
// rating head), so the report shows what `tandem recommend` and the server
// would answer.
#pragma once

#include <cstdint>
#include <vector>

#include "tandem/artifact/trained_model.h"
#include "tandem/serve/recommender.h"

namespace tandem::report {

struct SampleOptions {
  std::vector<int64_t> users = {5, 42, 196};
  int64_t k = 5;
  int64_t candidates = 50;  // retrieved before ranking; capped at the catalogue size
  bool exclude_seen = true;
};

struct UserSample {
  int64_t user_id = 0;
  RecommendResult result;  // cold_start for users the model does not know
};

std::vector<UserSample> sample_recommendations(TrainedModel model, const SampleOptions& options);

}  // namespace tandem::report
