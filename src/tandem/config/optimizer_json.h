// The optimizer's part of an experiment config's JSON form (the "train"
// section of a model file's or checkpoint's metadata). Files written before
// Adam, SGD, L2 and schedules existed hold only optimizer "adagrad",
// learning_rate, initial_accumulator and epsilon: the other keys default to
// the values that reproduce them.
#pragma once

#include <nlohmann/json.hpp>

#include "tandem/train/optimizer_config.h"

namespace tandem {

// Adds the optimizer's keys to `train` (an object).
void add_optimizer_json(nlohmann::json& train, const OptimizerConfig& c);

// Reads them back; a key of the wrong type or out of range is a tandem::Error
// naming train.<key>.
OptimizerConfig optimizer_from_json(const nlohmann::json& train);

}  // namespace tandem
