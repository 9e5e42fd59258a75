// Extra tasks beyond retrieval and rating (model/task.h): how a config file,
// a model file and the command line give them, and what makes a list valid.
//   TOML:  [[tasks.extra]]  name = "liked"  kind = "binary"  weight = 1.0
//                           positive_threshold = 4.0   (stars; default 4)
//   JSON:  "tasks": {"extra": [{"name": ..., "kind": ..., "weight": ...,
//                  "positive_threshold": ...}]}   (model files)
//   CLI:   --task NAME:binary:WEIGHT[:THRESHOLD]   (repeatable)
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/model/task.h"

namespace tandem {

// Throws tandem::Error naming the task when a name is empty, malformed,
// repeated or one of the built-in tasks' ("retrieval", "rating", "ranking"),
// a weight is negative or not finite, a threshold not finite, or there are
// more than kMaxExtraTasks.
void validate_extra_tasks(const std::vector<ExtraTaskSpec>& tasks);

// One `--task` value: NAME:binary:WEIGHT[:THRESHOLD].
ExtraTaskSpec parse_extra_task_spec(const std::string& spec);

// Every `--task` value of one command line, validated as a list.
std::vector<ExtraTaskSpec> parse_extra_task_specs(const std::vector<std::string>& specs);

// The [[tasks.extra]] tables that give `tasks` back (empty for none).
std::string extra_tasks_to_toml(const std::vector<ExtraTaskSpec>& tasks);

nlohmann::json extra_tasks_to_json(const std::vector<ExtraTaskSpec>& tasks);
// The list as the model file and, through the settings registry, the config
// file give it; unknown keys and wrong types are errors naming the entry.
std::vector<ExtraTaskSpec> extra_tasks_from_json(const nlohmann::json& j);

}  // namespace tandem
