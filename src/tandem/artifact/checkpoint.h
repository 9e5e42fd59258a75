// A training checkpoint: everything needed to continue a run exactly where it
// stopped. The experiment config, the model's weights, the trainer's state
// (the optimizer's state, shuffle RNG, example order, position, stats so far)
// and a fingerprint of the data trained on, so that a resume on other data
// is refused instead of silently training a different model.
//
// Stored in the model-file container (magic, version, tagged sections,
// XXH64 over the payload, atomic write) with metadata format
// "tandem-checkpoint"; the layout is in docs/design.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/config/experiment_config.h"
#include "tandem/prepare/prepared_data.h"
#include "tandem/io/model_file.h"
#include "tandem/model/multitask_model.h"
#include "tandem/train/trainer.h"

namespace tandem {

inline constexpr int kCheckpointVersion = 1;

// What stays the same over a run, stored in each of its checkpoints.
struct CheckpointRun {
  ExperimentConfig config;
  // How the run was invoked beyond the config (output file, schedule), so
  // that --resume needs no flags repeated.
  nlohmann::json settings = nlohmann::json::object();
  uint64_t data_fingerprint = 0;
};

struct Checkpoint {
  CheckpointRun run;
  TrainerState trainer;
  // The model's embedding tables first, then its dense parameters, named as
  // in the model file.
  std::vector<Tensor> weights;
  size_t sparse_weights = 2;    // how many of `weights` are tables
};

// Hash of the encoded train and test examples and the table sizes: equal
// exactly when prepare_data produced the same examples.
uint64_t data_fingerprint(const PreparedData& data);

ModelBundle checkpoint_bundle(const CheckpointRun& run, const MultiTaskModel& model,
                              const TrainerState& state);
// Checks the format and that every part is present and well-formed; errors
// name `source`.
Checkpoint checkpoint_from_bundle(const ModelBundle& bundle, const std::string& source);

void write_checkpoint(const std::string& path, const CheckpointRun& run,
                      const MultiTaskModel& model, const TrainerState& state);
Checkpoint read_checkpoint(const std::string& path);

// Copies the checkpoint's weights into `model`, whose shape must match.
void restore_weights(const Checkpoint& checkpoint, MultiTaskModel& model, const std::string& source);

}  // namespace tandem
