// The training loop: batches in order (or shuffled once, or reshuffled each
// epoch), one
// forward/backward of the multi-task model per batch, the optimizer (Adagrad,
// Adam or SGD, see optimizer.h) on the rating head densely and on the
// embedding tables sparsely.
//
// Everything the loop carries from one step to the next, besides the model's
// weights, lives in one TrainerState value, so that a run can be stopped
// after any step and continued later (from a checkpoint) with exactly the
// same arithmetic as if it had never stopped.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tandem/core/random.h"
#include "tandem/core/thread_pool.h"
#include "tandem/data/examples.h"
#include "tandem/model/multitask_model.h"
#include "tandem/train/batch_source.h"
#include "tandem/train/optimizer.h"

namespace tandem {

// The order in which an epoch visits the training examples.
enum class ShuffleMode {
  kNone,        // as given, every epoch (Keras-RS: `take(80_000).batch(1000).cache()`)
  kOnce,        // one shuffled order, replayed every epoch (TFRS: `shuffle(100_000)
                // .batch(8192).cache()` fills the cache on the first pass)
  kEveryEpoch,  // a new order each epoch (the previous one reshuffled)
};
std::string to_string(ShuffleMode m);
// "none", "once" or "every-epoch"; anything else is an error naming them.
ShuffleMode parse_shuffle_mode(const std::string& s);

struct TrainConfig {
  OptimizerConfig optimizer;
  // Without extra weights (extra_count 0) the model's extra tasks train
  // with their configured weights.
  TaskWeights weights;
  int64_t batch_size = 1000;
  int epochs = 5;
  ShuffleMode shuffle = ShuffleMode::kNone;
  uint64_t shuffle_seed = 0;
  // What a step samples (mixed negatives) is seeded by (sample_seed, step).
  uint64_t sample_seed = 0;
  // Threads that split each batch between them (the model must have been
  // built for this many workers). 1 = the calling thread only.
  int workers = 1;
  // Pin workers 1.. to their own cores (ThreadPool's pin_to_cores).
  bool pin_threads = false;
};

struct EpochStats {
  int epoch = 0;              // 1-based
  int64_t steps = 0;
  int64_t examples = 0;
  double ranking_loss = 0.0;    // mean over the epoch's batches
  double retrieval_loss = 0.0;  // mean over the epoch's batches
  // Each extra task's loss, mean over the epoch's batches (empty without).
  std::vector<double> extra_losses;
  double total_loss = 0.0;
  double seconds = 0.0;         // time spent in the epoch's steps
  double score_entries = 0.0;  // sum over steps of the retrieval score-matrix size
  // With learned task weights: exp(-s_t) for (retrieval, ranking, extra
  // tasks...) at the epoch's end; empty with fixed weights.
  std::vector<double> learned_task_weights;
  double learning_rate = 0.0;  // the rate of the epoch's last step (schedules change it)
};

// Where a run stands between two steps.
struct TrainerState {
  int epochs_done = 0;
  int64_t step_in_epoch = 0;  // steps of the epoch in progress already taken
  int64_t global_step = 0;    // steps taken since the start of the run
  // The shuffle RNG. Each shuffled epoch's order is the previous one
  // reshuffled, so the order itself is state too: empty before the first epoch, afterwards
  // the order of the epoch in progress (or of the last one, between epochs).
  uint64_t shuffle_state = 0;
  std::vector<uint32_t> order;
  // The epoch in progress; its losses are running sums until it ends (then
  // means, and the stats move to history).
  EpochStats current;
  std::vector<EpochStats> history;
  // The optimizer's state: its name, the names of the slots each parameter
  // carries (Optimizer::slot_names), and the slots of every dense parameter
  // (dense_parameters() order) and embedding table (sparse_parameters()
  // order), each slot shaped like its parameter.
  std::string optimizer;
  std::vector<std::string> slot_names;
  std::vector<OptimizerSlots> dense_slots;
  std::vector<OptimizerSlots> sparse_slots;
};

// Called after every step with the state at that point (e.g. to checkpoint).
using StepHook = std::function<void(const TrainerState&)>;

class Trainer {
 public:
  // The model must outlive the trainer; its max_batch must cover batch_size.
  Trainer(MultiTaskModel& model, const TrainConfig& config);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Continue from `state`, saved from a trainer with the same model shape and
  // config (the model's weights restored separately). Throws tandem::Error
  // if it cannot belong to this model; the example count is checked on the
  // next step.
  void restore(TrainerState state);
  const TrainerState& state() const { return st_; }
  // Where the steps taken so far spent their time, phase by phase
  // (step_profile.h); the model's phases included.
  const StepProfile& profile() const { return profile_; }
  // What the steps run on, for estimates made from outside (step_traffic.h):
  // the model, the task weights every step uses (extra tasks' included) and
  // the optimizer's state slots per parameter value (Adagrad 1, Adam 2).
  const MultiTaskModel& model() const { return model_; }
  const TaskWeights& step_weights() const { return weights_; }
  int optimizer_slots() const { return static_cast<int>(optimizer_.slot_names().size()); }

  // Runs the steps left in the current epoch (all of them for a new one).
  EpochStats run_epoch(const Examples& train);
  EpochStats run_epoch(BatchSource& train);
  // Runs until config.epochs epochs are done. `on_epoch` (may be empty) sees
  // each epoch's stats as it ends, then `after_step` (may be empty) runs.
  // Returns every epoch's stats, those of a restored state included.
  std::vector<EpochStats> fit(const Examples& train,
                              const std::function<void(const EpochStats&)>& on_epoch = {},
                              const StepHook& after_step = {});
  // The same over any batch source (the examples in memory are an
  // ExamplesSource; a store on disk a StoreBatchSource).
  std::vector<EpochStats> fit(BatchSource& train,
                              const std::function<void(const EpochStats&)>& on_epoch = {},
                              const StepHook& after_step = {});

 private:
  // One batch; true when it completed an epoch.
  bool step(BatchSource& train);
  // The optimizer's rule on every trained dense parameter and every touched
  // embedding row, the elements and rows split between the workers.
  void update_parameters();

  MultiTaskModel& model_;
  TrainConfig cfg_;
  Optimizer optimizer_;
  std::unique_ptr<ThreadPool> pool_;
  std::vector<ParameterRef> params_;         // the model's dense parameters, fetched once
  std::vector<SparseParameterRef> tables_;  // and its embedding tables
  // The task weights of every step (the extra tasks' from the model when the
  // config gives none), and which dense parameters they train.
  TaskWeights weights_;
  std::vector<bool> trained_;
  TrainerState st_;
  StepProfile profile_;
  std::vector<int32_t> batch_users_, batch_items_;
  std::vector<float> batch_labels_, batch_weights_;
  std::vector<int64_t> batch_timestamps_;
};

}  // namespace tandem
