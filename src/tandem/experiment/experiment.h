// Train one model on prepared data, evaluate it, and the tutorials' three-way
// comparison (rating-only, retrieval-only, joint) on one shared split.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/artifact/checkpoint_dir.h"
#include "tandem/artifact/run_result.h"
#include "tandem/artifact/checkpoint_schedule.h"
#include "tandem/core/communicator.h"
#include "tandem/evaluate/evaluation.h"
#include "tandem/prepare/prepared_data.h"
#include "tandem/prepare/prepared_store.h"
#include "tandem/artifact/trained_model.h"
#include "tandem/train/trainer.h"

namespace tandem {


using EpochCallback = std::function<void(const std::string& model, const EpochStats&)>;

// Where training stands after a step, for progress displays.
struct StepProgress {
  int epoch = 0, epochs = 0;          // the epoch in progress (1-based), of how many
  int64_t step = 0, steps = 0;        // steps done in it, steps per epoch
  int64_t examples = 0;               // examples done in it
  double ranking_loss = 0.0;          // running means over its steps
  double retrieval_loss = 0.0;
  double seconds = 0.0;               // time spent in its steps
};

// Optional live progress: after each training step that does not end an
// epoch (epochs end through the EpochCallback), and as evaluation proceeds.
struct ProgressHooks {
  std::function<void(const std::string& model, const StepProgress&)> on_step;
  std::function<void(const std::string& model, int64_t done, int64_t total)> on_eval;
};

// Checkpoints of one training run (tandem train --checkpoint-dir, --resume).
struct Checkpointing {
  std::string dir;
  CheckpointSchedule schedule;
  // Stored in every checkpoint besides the config (output file, schedule).
  nlohmann::json settings = nlohmann::json::object();
  // Continue from this checkpoint (found in `dir`) instead of starting anew.
  const ResumePoint* resume = nullptr;
  std::function<void(const CheckpointWritten&)> on_write;  // may be empty
};

// The ranks of a job that trains one model together (mpirun -np N tandem
// train; docs/distributed.md): each rank trains its strided part of the
// examples with its shard of the embedding tables, and rank 0 ends up with
// the whole model, evaluates it and returns it. Other ranks return their
// shard, an empty evaluation and world_size in the result.
struct Ranks {
  Communicator* comm = nullptr;
  bool distributed() const { return comm != nullptr && comm->size() > 1; }
  int rank() const { return comm == nullptr ? 0 : comm->rank(); }
  int size() const { return comm == nullptr ? 1 : comm->size(); }
};

// Trains a model with `config` on `data`, evaluates it on data.test and
// returns the trained model (metrics filled in) and its result. With
// `checkpointing`, writes checkpoints on its schedule and one when training
// ends; an error during training (a non-finite loss, say) then names the
// last good checkpoint.
std::pair<TrainedModel, RunResult> train_and_evaluate(const ExperimentConfig& config,
                                                      const PreparedData& data,
                                                      const std::string& name,
                                                      const EpochCallback& on_epoch = {},
                                                      const Checkpointing* checkpointing = nullptr,
                                                      const ProgressHooks* progress = nullptr,
                                                      Ranks ranks = {});

// The same from a store on disk (tandem train --prepared): the training
// examples are streamed (prepare/store_batch_source.h) in the block-shuffled
// order, never loaded whole; evaluation reads the first
// config.eval_max_pairs test pairs (all when 0). `config` must carry the
// store's data settings (with_store_data). Side features are not supported.
// On several ranks each reads and holds only its strided part of the rows.
std::pair<TrainedModel, RunResult> train_and_evaluate_store(const ExperimentConfig& config,
                                                            const PreparedStore& store,
                                                            const std::string& name,
                                                            const EpochCallback& on_epoch = {},
                                                            const Checkpointing* checkpointing = nullptr,
                                                            const ProgressHooks* progress = nullptr,
                                                            Ranks ranks = {});

// The tutorials' variants: (name, ranking weight, retrieval weight).
struct Variant {
  std::string name;
  TaskWeights weights;
};
std::vector<Variant> tutorial_variants();

// Applies the configured BLAS thread count (0 leaves the library default).
void apply_threads(const ExperimentConfig& config);

}  // namespace tandem
