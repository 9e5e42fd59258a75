// The optimizer's command-line flags (--optimizer, --lr-schedule, ...), shared
// by every command that trains; each flag given overrides the config's value.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

#include "tandem/train/optimizer_config.h"

namespace tandem::cli {

struct OptimizerOptions {
  std::string optimizer, lr_schedule;
  std::optional<float> epsilon, initial_accumulator, beta1, beta2, momentum, embedding_l2, dense_l2,
      decay_rate, min_lr_fraction;
  std::optional<int64_t> warmup_steps, decay_steps;
  bool nesterov = false;

  void add_to(CLI::App& app);
  void apply(OptimizerConfig& c) const;
};

}  // namespace tandem::cli
