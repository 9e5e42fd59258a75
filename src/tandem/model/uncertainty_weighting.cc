#include "tandem/model/uncertainty_weighting.h"

#include <cmath>

#include "tandem/model/multitask_model.h"

namespace tandem {

TaskWeights UncertaintyWeighting::effective_weights(const TaskWeights& fixed) const {
  TaskWeights w;
  w.retrieval = fixed.retrieval * std::exp(-s_[kRetrieval]);
  w.ranking = fixed.ranking * std::exp(-s_[kRanking]);
  return w;
}

double UncertaintyWeighting::finish(const TaskWeights& fixed, double retrieval_loss,
                                    double ranking_loss) {
  // The same float multipliers the gradients were scaled by, so that the
  // total is exactly the function those gradients differentiate.
  const TaskWeights eff = effective_weights(fixed);
  double total = 0.0;
  grad_ = {0.0f, 0.0f};
  if (fixed.retrieval != 0.0f) {
    total += static_cast<double>(eff.retrieval) * retrieval_loss + s_[kRetrieval];
    grad_[kRetrieval] = static_cast<float>(1.0 - static_cast<double>(eff.retrieval) * retrieval_loss);
  }
  if (fixed.ranking != 0.0f) {
    total += static_cast<double>(eff.ranking) * ranking_loss + s_[kRanking];
    grad_[kRanking] = static_cast<float>(1.0 - static_cast<double>(eff.ranking) * ranking_loss);
  }
  return total;
}

double UncertaintyWeighting::learned_weight(int task) const {
  return std::exp(-static_cast<double>(s_[static_cast<size_t>(task)]));
}

}  // namespace tandem
