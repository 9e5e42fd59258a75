#include "tandem/artifact/checkpoint_schedule.h"

#include <cctype>

#include "tandem/core/error.h"

namespace tandem {

bool CheckpointSchedule::due(const TrainerState& s) const {
  if (every_steps > 0) return s.global_step % every_steps == 0;
  return s.step_in_epoch == 0 && s.epochs_done > 0 && s.epochs_done % every_epochs == 0;
}

std::string CheckpointSchedule::text() const {
  return every_steps > 0 ? std::to_string(every_steps) : std::to_string(every_epochs) + "epochs";
}

CheckpointSchedule parse_checkpoint_every(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  const std::string unit = text.substr(digits);
  const bool steps = unit.empty() || unit == "step" || unit == "steps";
  const bool epochs = unit == "epoch" || unit == "epochs";
  // "epoch" alone is one epoch; "steps" alone says nothing about how many.
  TANDEM_CHECK((steps && digits > 0) || (epochs && (digits > 0 || unit == "epoch")),
               "--checkpoint-every '" << text
                                      << "' is not a step count (500, 500steps) or an epoch count "
                                         "(epoch, 2epochs)");
  int64_t n = 1;
  if (digits > 0) {
    TANDEM_CHECK(digits <= 12, "--checkpoint-every '" << text << "' is too large");
    n = std::stoll(text.substr(0, digits));
  }
  TANDEM_CHECK(n > 0, "--checkpoint-every must be positive, got '" << text << "'");
  CheckpointSchedule s;
  (steps ? s.every_steps : s.every_epochs) = n;
  return s;
}

}  // namespace tandem
