#include "tandem/model/multitask_architecture.h"

#include "tandem/core/error.h"

namespace tandem {

MoeLayout MultitaskSpec::moe_layout() const {
  MoeLayout l;
  l.kind = arch == MultitaskArch::kPle ? MoeKind::kPle : MoeKind::kMmoe;
  l.tasks = 2;
  l.experts = experts;
  l.shared_experts = shared_experts;
  l.task_experts = task_experts;
  l.expert_dim = expert_dim;
  return l;
}

void MultitaskSpec::validate() const {
  constexpr int64_t kMaxExperts = 64;
  TANDEM_CHECK(experts >= 1 && experts <= kMaxExperts,
               "experts (mmoe) must be in 1.." << kMaxExperts << ", got " << experts);
  TANDEM_CHECK(shared_experts >= 0 && shared_experts <= kMaxExperts,
               "shared_experts (ple) must be in 0.." << kMaxExperts << ", got " << shared_experts);
  TANDEM_CHECK(task_experts >= 0 && task_experts <= kMaxExperts,
               "task_experts (ple) must be in 0.." << kMaxExperts << ", got " << task_experts);
  TANDEM_CHECK(arch != MultitaskArch::kPle || shared_experts + task_experts >= 1,
               "ple needs at least one expert per task gate (shared_experts + task_experts >= 1)");
  TANDEM_CHECK(expert_dim >= 1 && expert_dim <= 4096,
               "expert_dim must be in 1..4096, got " << expert_dim);
}

std::string to_string(MultitaskArch a) {
  switch (a) {
    case MultitaskArch::kMmoe: return "mmoe";
    case MultitaskArch::kPle: return "ple";
    default: return "shared-bottom";
  }
}

MultitaskArch parse_multitask_arch(const std::string& s) {
  if (s == "shared-bottom") return MultitaskArch::kSharedBottom;
  if (s == "mmoe") return MultitaskArch::kMmoe;
  if (s == "ple") return MultitaskArch::kPle;
  TANDEM_THROW("unknown multitask architecture '" << s << "' (shared-bottom, mmoe or ple)");
}

std::string to_string(TaskWeighting w) {
  return w == TaskWeighting::kUncertainty ? "uncertainty" : "fixed";
}

TaskWeighting parse_task_weighting(const std::string& s) {
  if (s == "fixed") return TaskWeighting::kFixed;
  if (s == "uncertainty") return TaskWeighting::kUncertainty;
  TANDEM_THROW("unknown task weighting '" << s << "' (fixed or uncertainty)");
}

}  // namespace tandem
