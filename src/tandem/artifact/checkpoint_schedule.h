// When a training run writes a checkpoint (tandem train --checkpoint-every):
// every N steps ("500", "500steps") or every N epochs ("epoch", "2epochs").
// A bare number always means steps, and the unit is spelled out otherwise,
// so no value reads two ways ("1e" would look like a float).
#pragma once

#include <cstdint>
#include <string>

#include "tandem/train/trainer.h"

namespace tandem {

struct CheckpointSchedule {
  int64_t every_steps = 0;  // exactly one of the two is positive
  int64_t every_epochs = 0;

  // Whether the state just reached (after a step) is a checkpoint point.
  // Steps count over the whole run, so a resumed run keeps the schedule.
  bool due(const TrainerState& s) const;
  // The canonical spelling parse_checkpoint_every reads back: "500" or "2epochs".
  std::string text() const;
};

// Throws tandem::Error naming the value and the accepted forms.
CheckpointSchedule parse_checkpoint_every(const std::string& text);

}  // namespace tandem
