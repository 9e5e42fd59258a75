#include "tandem/report/sample_recommendations.h"

#include <algorithm>
#include <string>

namespace tandem::report {

std::vector<UserSample> sample_recommendations(TrainedModel model, const SampleOptions& options) {
  const Recommender rec(std::move(model));
  const int64_t catalogue = rec.catalogue_size();
  const int64_t k = std::min(options.k, catalogue);
  const int64_t candidates = std::clamp(options.candidates, k, catalogue);
  std::vector<UserSample> out;
  for (int64_t user : options.users) {
    out.push_back({user, rec.recommend(std::to_string(user), k, candidates, options.exclude_seen)});
  }
  return out;
}

}  // namespace tandem::report
