#include "tandem/train/optimizer_config.h"

#include <cmath>

#include "tandem/core/error.h"

namespace tandem {

namespace {

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

std::vector<std::string> optimizer_names() { return {"adagrad", "adam", "sgd"}; }

std::string to_string(OptimizerKind k) {
  switch (k) {
    case OptimizerKind::kAdam: return "adam";
    case OptimizerKind::kSgd: return "sgd";
    case OptimizerKind::kAdagrad: break;
  }
  return "adagrad";
}

std::string display_name(OptimizerKind k) {
  switch (k) {
    case OptimizerKind::kAdam: return "Adam";
    case OptimizerKind::kSgd: return "SGD";
    case OptimizerKind::kAdagrad: break;
  }
  return "Adagrad";
}

OptimizerKind parse_optimizer_kind(const std::string& s) {
  if (s == "adagrad") return OptimizerKind::kAdagrad;
  if (s == "adam") return OptimizerKind::kAdam;
  if (s == "sgd") return OptimizerKind::kSgd;
  TANDEM_THROW("unknown optimizer '" << s << "' (known: " << joined(optimizer_names()) << ")");
}

std::vector<std::string> lr_schedule_names() {
  return {"constant", "linear-warmup", "cosine", "exponential", "step"};
}

std::string to_string(LrScheduleKind k) {
  switch (k) {
    case LrScheduleKind::kLinearWarmup: return "linear-warmup";
    case LrScheduleKind::kCosine: return "cosine";
    case LrScheduleKind::kExponential: return "exponential";
    case LrScheduleKind::kStep: return "step";
    case LrScheduleKind::kConstant: break;
  }
  return "constant";
}

LrScheduleKind parse_lr_schedule(const std::string& s) {
  const auto names = lr_schedule_names();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == s) return static_cast<LrScheduleKind>(i);
  TANDEM_THROW("unknown learning-rate schedule '" << s << "' (known: " << joined(names) << ")");
}

std::vector<std::string> optimizer_slot_names(const OptimizerConfig& c) {
  switch (c.kind) {
    case OptimizerKind::kAdam: return {"adam_m", "adam_v"};
    case OptimizerKind::kSgd:
      if (c.momentum == 0.0f) return {};
      return {"sgd_momentum"};
    case OptimizerKind::kAdagrad: break;
  }
  return {"adagrad"};
}

float optimizer_slot_initial_value(const OptimizerConfig& c) {
  return c.kind == OptimizerKind::kAdagrad ? c.initial_accumulator : 0.0f;
}

void OptimizerConfig::validate() const {
  TANDEM_CHECK(std::isfinite(learning_rate) && learning_rate > 0,
               "learning rate must be positive, got " << learning_rate);
  TANDEM_CHECK(std::isfinite(initial_accumulator) && initial_accumulator >= 0 &&
                   std::isfinite(epsilon) && epsilon >= 0,
               "Adagrad accumulator and epsilon must be >= 0");
  TANDEM_CHECK(beta1 >= 0 && beta1 < 1, "Adam beta1 must be in [0, 1), got " << beta1);
  TANDEM_CHECK(beta2 >= 0 && beta2 < 1, "Adam beta2 must be in [0, 1), got " << beta2);
  TANDEM_CHECK(momentum >= 0 && momentum < 1, "SGD momentum must be in [0, 1), got " << momentum);
  TANDEM_CHECK(!nesterov || momentum > 0, "Nesterov momentum needs a momentum above 0");
  TANDEM_CHECK(std::isfinite(embedding_l2) && embedding_l2 >= 0,
               "embedding_l2 must be finite and >= 0, got " << embedding_l2);
  TANDEM_CHECK(std::isfinite(dense_l2) && dense_l2 >= 0,
               "dense_l2 must be finite and >= 0, got " << dense_l2);
  const LrSchedule& s = schedule;
  TANDEM_CHECK(s.warmup_steps >= 0, "warmup_steps must be >= 0, got " << s.warmup_steps);
  TANDEM_CHECK(s.decay_steps >= 0, "decay_steps must be >= 0, got " << s.decay_steps);
  TANDEM_CHECK(s.decay_rate > 0 && s.decay_rate <= 1,
               "decay_rate must be in (0, 1], got " << s.decay_rate);
  TANDEM_CHECK(s.min_lr_fraction >= 0 && s.min_lr_fraction <= 1,
               "min_lr_fraction must be in [0, 1], got " << s.min_lr_fraction);
  TANDEM_CHECK(s.kind != LrScheduleKind::kLinearWarmup || s.warmup_steps > 0,
               "the linear-warmup schedule needs warmup_steps > 0");
  TANDEM_CHECK(
      (s.kind != LrScheduleKind::kExponential && s.kind != LrScheduleKind::kStep) || s.decay_steps > 0,
      "the " << to_string(s.kind) << " schedule needs decay_steps > 0");
}

}  // namespace tandem
