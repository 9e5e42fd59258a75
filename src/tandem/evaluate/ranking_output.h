// What the rating head's output means to a reader, which depends on the
// ranking loss it was trained with (model/ranking_loss.h):
//   mse                a predicted label: rating_from_label gives stars
//   bce                a logit: sigmoid gives the probability that the user
//                      rates the item at least ranking_positive_threshold
//   pairwise-*,        a score with no scale: only its order among one user's
//   softmax-listwise   items means anything
// Everything that shows the head's output to a user (evaluation's RMSE,
// recommend, the server) goes through here, so none reports a rating that is
// not one.
#pragma once

#include "tandem/config/experiment_config.h"
#include "tandem/model/ranking_loss.h"

namespace tandem {

enum class RankingOutput {
  kRating,       // stars
  kProbability,  // of a positive, in [0, 1]
  kScore,        // unscaled ranking score
};

RankingOutput ranking_output(const ExperimentConfig& config);

// The key serving replies carry the value under: "predicted_rating",
// "positive_probability" or "ranking_score".
const char* ranking_output_key(RankingOutput o);

// The head's raw output turned into what ranking_output names.
float ranking_output_value(const ExperimentConfig& config, float head_output);

// The loss as MultiTaskModel takes it: the bce threshold moved from the raw
// rating scale to the label scale by the config's own label transform, so
// that label >= threshold exactly when rating >= positive threshold (the
// transforms are increasing).
RankingLossSpec ranking_loss_spec(const ExperimentConfig& config);

}  // namespace tandem
