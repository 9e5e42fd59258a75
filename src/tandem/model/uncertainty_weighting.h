// Learned task weights by homoscedastic uncertainty (Kendall, Gal, Cipolla
// 2018, in the common log-variance form): each task t has a trainable scalar
// s_t (= log sigma_t^2, initially 0) and
//   total = sum_t ( exp(-s_t) * w_t * L_t + s_t )
// over the tasks that are on (w_t != 0). The fixed weights w_t stay per-task
// multipliers on L_t, so w_t = 0 still switches a task (and its s_t) off;
// note that at s_t's optimum exp(-s_t) w_t = 1 / L_t, so a multiplier mainly
// sets where the balance starts, not where it settles. The model scales each
// task's gradient by exp(-s_t) w_t (effective_weights) and, once the task
// losses are known, finish() adds the s_t terms and their gradients:
//   dtotal/ds_t = 1 - exp(-s_t) w_t L_t.
#pragma once

#include <array>

#include "tandem/model/parameter.h"

namespace tandem {

struct TaskWeights;

class UncertaintyWeighting {
 public:
  // Parameter name in the model's registry; values ordered (retrieval, ranking).
  static constexpr const char* kName = "task_log_variance";
  static constexpr int kRetrieval = 0, kRanking = 1;

  UncertaintyWeighting() = default;

  void init() { s_ = {0.0f, 0.0f}; }

  // The multipliers the tasks' losses are scaled by this step: w_t exp(-s_t).
  TaskWeights effective_weights(const TaskWeights& fixed) const;
  // Total loss of the step from the task losses (raw, unweighted) and
  // gradients w.r.t. s (overwritten; 0 for a task that is off).
  double finish(const TaskWeights& fixed, double retrieval_loss, double ranking_loss);
  // exp(-s_t): what the user reads as the learned weight of each task.
  double learned_weight(int task) const;

  ParameterRef parameter() { return {kName, s_.data(), grad_.data(), 2}; }
  ParameterView parameter_value() const { return {kName, s_.data(), 2}; }
  float* values() { return s_.data(); }
  const float* gradient() const { return grad_.data(); }

 private:
  std::array<float, 2> s_{0.0f, 0.0f};
  std::array<float, 2> grad_{0.0f, 0.0f};
};

}  // namespace tandem
