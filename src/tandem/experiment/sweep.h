// Running a loss-weight sweep (the record it writes: artifact/sweep_record.h).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tandem/artifact/sweep_record.h"
#include "tandem/experiment/experiment.h"

namespace tandem {

struct SweepCallbacks {
  EpochCallback on_epoch;                                 // each epoch of each variant
  std::function<void(const SweepVariant&)> on_variant;    // each variant once trained
};

// Prepares the data of `base` once, then trains and evaluates one model per
// weight pair, saving each model and rewriting run.json (atomically) after
// every variant, so an interrupted sweep leaves a readable partial record.
// Refuses a run directory that already holds a run.json.
SweepRecord run_sweep(const ExperimentConfig& base, const std::vector<TaskWeights>& weights,
                      const std::string& run_dir, const SweepCallbacks& callbacks = {});

}  // namespace tandem
