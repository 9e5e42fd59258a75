// Learning-rate schedules: the rate of a step as a pure function of the
// global step and the run's total steps (epochs x steps per epoch), with no
// state of its own, so that a run resumed from a checkpoint takes exactly
// the steps it would have taken uninterrupted.
#pragma once

#include <cstdint>

#include "tandem/train/optimizer_config.h"

namespace tandem {

// The rate for the step with 0-based index `step` of a run of `total_steps`
// (used by cosine when decay_steps is 0). Warmup: base x (step + 1) /
// warmup_steps for the first warmup_steps steps; afterwards, with t = step -
// warmup_steps and f = min_lr_fraction:
//   constant, linear-warmup: base (exactly, so a constant schedule is the
//                            plain rule bit for bit)
//   cosine:      base x (f + (1 - f) x (1 + cos(pi x min(t, D) / D)) / 2),
//                D = decay_steps, or total_steps - warmup_steps when 0
//   exponential: base x max(f, decay_rate^(t / decay_steps))
//   step:        base x max(f, decay_rate^floor(t / decay_steps))
float learning_rate_at(const LrSchedule& schedule, float base, int64_t step, int64_t total_steps);

// Whether the rates depend on the run's total steps, so that changing the
// epochs of a run part-way would change the steps already taken.
bool schedule_depends_on_total_steps(const LrSchedule& schedule);

}  // namespace tandem
