// The tutorials' last step: retrieve the top-k items for a user over the whole
// catalogue (exact brute force), then predict each one's rating with the
// rating head of the same model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tandem/artifact/trained_model.h"

namespace tandem {

struct Recommendation {
  int64_t item_id;
  std::string title;
  float score;             // retrieval score (user . item)
  // Rating head's output as ranking_output.h reads it: stars under the mse
  // loss, the probability of a positive under bce, else a raw score.
  float predicted_rating;
};

// Ordered by retrieval score. Unknown user ids are an error naming the id.
std::vector<Recommendation> recommend(const TrainedModel& model, int64_t user_id, int64_t k);

}  // namespace tandem
