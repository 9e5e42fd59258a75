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

#include <algorithm>
#include <vector>

#include "tandem/model/parameter.h"

namespace tandem {

struct TaskWeights;
struct StepLosses;

class UncertaintyWeighting {
 public:
  // Parameter name in the model's registry; values ordered as the tasks
  // (retrieval, ranking, then the extra tasks).
  static constexpr const char* kName = "task_log_variance";
  static constexpr int kRetrieval = 0, kRanking = 1;

  explicit UncertaintyWeighting(int tasks = 2)
      : s_(static_cast<size_t>(tasks), 0.0f), grad_(static_cast<size_t>(tasks), 0.0f) {}

  void init() { std::fill(s_.begin(), s_.end(), 0.0f); }
  int tasks() const { return static_cast<int>(s_.size()); }

  // The multipliers the tasks' losses are scaled by this step: w_t exp(-s_t).
  TaskWeights effective_weights(const TaskWeights& fixed) const;
  // Total loss of the step from the task losses (raw, unweighted) and
  // gradients w.r.t. s (overwritten; 0 for a task that is off).
  // Tasks are added in task order (retrieval, ranking, extras).
  double finish(const TaskWeights& fixed, const StepLosses& losses);
  double finish(const TaskWeights& fixed, double retrieval_loss, double ranking_loss);
  // exp(-s_t): what the user reads as the learned weight of each task.
  double learned_weight(int task) const;

  ParameterRef parameter() { return {kName, s_.data(), grad_.data(), static_cast<int64_t>(s_.size())}; }
  ParameterView parameter_value() const { return {kName, s_.data(), static_cast<int64_t>(s_.size())}; }
  float* values() { return s_.data(); }
  const float* gradient() const { return grad_.data(); }

 private:
  std::vector<float> s_;
  std::vector<float> grad_;
};

}  // namespace tandem
