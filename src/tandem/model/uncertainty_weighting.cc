#include "tandem/model/uncertainty_weighting.h"

#include <cmath>

#include "tandem/model/multitask_model.h"

namespace tandem {

TaskWeights UncertaintyWeighting::effective_weights(const TaskWeights& fixed) const {
  TaskWeights w = fixed;
  const int tasks = std::min(fixed.task_count(), static_cast<int>(s_.size()));
  for (int t = 0; t < tasks; ++t) w.of(t) = fixed.of(t) * std::exp(-s_[static_cast<size_t>(t)]);
  return w;
}

double UncertaintyWeighting::finish(const TaskWeights& fixed, const StepLosses& losses) {
  // The same float multipliers the gradients were scaled by, so that the
  // total is exactly the function those gradients differentiate.
  const TaskWeights eff = effective_weights(fixed);
  double total = 0.0;
  std::fill(grad_.begin(), grad_.end(), 0.0f);
  const int tasks = std::min(fixed.task_count(), static_cast<int>(s_.size()));
  for (int t = 0; t < tasks; ++t) {
    if (fixed.of(t) == 0.0f) continue;
    const double loss = t == 0 ? losses.retrieval : t == 1 ? losses.ranking
                                                           : losses.extra[static_cast<size_t>(t - 2)];
    const auto i = static_cast<size_t>(t);
    total += static_cast<double>(eff.of(t)) * loss + s_[i];
    grad_[i] = static_cast<float>(1.0 - static_cast<double>(eff.of(t)) * loss);
  }
  return total;
}

double UncertaintyWeighting::finish(const TaskWeights& fixed, double retrieval_loss,
                                    double ranking_loss) {
  StepLosses losses;
  losses.retrieval = retrieval_loss;
  losses.ranking = ranking_loss;
  return finish(fixed, losses);
}

double UncertaintyWeighting::learned_weight(int task) const {
  return std::exp(-static_cast<double>(s_[static_cast<size_t>(task)]));
}

}  // namespace tandem
