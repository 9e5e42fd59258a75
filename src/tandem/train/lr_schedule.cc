#include "tandem/train/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace tandem {

float learning_rate_at(const LrSchedule& s, float base, int64_t step, int64_t total_steps) {
  if (step < s.warmup_steps) {
    return static_cast<float>(static_cast<double>(base) * static_cast<double>(step + 1) /
                              static_cast<double>(s.warmup_steps));
  }
  const double t = static_cast<double>(step - s.warmup_steps);
  const double f = s.min_lr_fraction;
  double factor = 1.0;
  switch (s.kind) {
    case LrScheduleKind::kConstant:
    case LrScheduleKind::kLinearWarmup:
      return base;
    case LrScheduleKind::kCosine: {
      const double d = s.decay_steps > 0
                           ? static_cast<double>(s.decay_steps)
                           : static_cast<double>(std::max<int64_t>(total_steps - s.warmup_steps, 1));
      const double p = std::min(t, d) / d;
      factor = f + (1.0 - f) * 0.5 * (1.0 + std::cos(std::numbers::pi * p));
      break;
    }
    case LrScheduleKind::kExponential:
      factor = std::max(f, std::pow(static_cast<double>(s.decay_rate), t / static_cast<double>(s.decay_steps)));
      break;
    case LrScheduleKind::kStep:
      factor = std::max(f, std::pow(static_cast<double>(s.decay_rate),
                                    std::floor(t / static_cast<double>(s.decay_steps))));
      break;
  }
  return static_cast<float>(static_cast<double>(base) * factor);
}

bool schedule_depends_on_total_steps(const LrSchedule& s) {
  return s.kind == LrScheduleKind::kCosine && s.decay_steps == 0;
}

}  // namespace tandem
