// The most-popular baseline: every user gets the catalogue ranked by how often
// each item was rated in training. No model, no training; the bar every
// retrieval model must clear (in-batch softmax negatives are drawn in
// proportion to popularity, so the tutorials' retrieval model learns to push
// popular items down and can end up below this baseline).
#pragma once

#include "tandem/experiment/experiment.h"

namespace tandem {

// A RunResult named "popularity" on data.test with the protocol of `config`
// (same positives, same weighting, same tie rule: ties count in the
// positive's favour, same exclusion of seen items, same per-user ranking
// metrics). Its RMSE is that of predicting the mean training label for every
// pair (the constant the ranking task must beat); its AUC ranks the test
// pairs by their item's training count.
RunResult evaluate_popularity(const ExperimentConfig& config, const PreparedData& data);

}  // namespace tandem
