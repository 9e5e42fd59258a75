// How the two tasks share the towers (the `multitask` setting) and how their
// losses are weighted (the `task_weighting` setting): the choices a model's
// shape carries beyond its tables and rating head.
#pragma once

#include <cstdint>
#include <string>

#include "tandem/model/mixture_of_experts.h"

namespace tandem {

enum class MultitaskArch {
  kSharedBottom,  // both tasks read the id embeddings directly (the tutorials)
  kMmoe,          // per tower, shared experts with one gate per task
  kPle,           // per tower, shared + task-specific experts (one CGC level)
};

enum class TaskWeighting {
  kFixed,        // total = w_ret L_ret + w_rank L_rank
  kUncertainty,  // learned: sum_t exp(-s_t) w_t L_t + s_t (see uncertainty_weighting.h)
};

struct MultitaskSpec {
  MultitaskArch arch = MultitaskArch::kSharedBottom;
  int64_t experts = 4;         // mmoe
  int64_t shared_experts = 2;  // ple
  int64_t task_experts = 2;    // ple, per task
  int64_t expert_dim = 32;     // mmoe, ple: width of every expert and task vector
  TaskWeighting weighting = TaskWeighting::kFixed;

  bool has_experts() const { return arch != MultitaskArch::kSharedBottom; }
  // The per-tower layer's layout (two tasks: retrieval 0, ranking 1).
  MoeLayout moe_layout() const;
  // Throws tandem::Error naming the setting when a count is out of range.
  void validate() const;
};

std::string to_string(MultitaskArch a);   // "shared-bottom", "mmoe", "ple"
MultitaskArch parse_multitask_arch(const std::string& s);
std::string to_string(TaskWeighting w);   // "fixed", "uncertainty"
TaskWeighting parse_task_weighting(const std::string& s);

}  // namespace tandem
