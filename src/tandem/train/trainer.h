// The training loop: batches in order (or reshuffled each epoch), one
// forward/backward of the multi-task model per batch, Adagrad on the rating
// head densely and on the embedding tables sparsely.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "tandem/core/random.h"
#include "tandem/core/thread_pool.h"
#include "tandem/data/examples.h"
#include "tandem/model/multitask_model.h"
#include "tandem/train/adagrad.h"

namespace tandem {

struct TrainConfig {
  AdagradConfig adagrad;
  TaskWeights weights;
  int64_t batch_size = 1000;
  int epochs = 5;
  bool reshuffle_each_epoch = false;  // Keras-RS: fixed order; TFRS: reshuffled
  uint64_t shuffle_seed = 0;
  // Threads that split each batch between them (the model must have been
  // built for this many workers). 1 = the calling thread only.
  int workers = 1;
};

struct EpochStats {
  int epoch = 0;              // 1-based
  int64_t steps = 0;
  int64_t examples = 0;
  double ranking_loss = 0.0;    // mean over the epoch's batches
  double retrieval_loss = 0.0;  // mean over the epoch's batches
  double total_loss = 0.0;
  double seconds = 0.0;
  double score_entries = 0.0;  // sum over steps of the retrieval score-matrix size
};

class Trainer {
 public:
  // The model must outlive the trainer; its max_batch must cover batch_size.
  Trainer(MultiTaskModel& model, const TrainConfig& config);

  EpochStats run_epoch(const Examples& train);
  // Runs config.epochs epochs; `on_epoch` (may be empty) sees each epoch's stats.
  std::vector<EpochStats> fit(const Examples& train,
                              const std::function<void(const EpochStats&)>& on_epoch = {});

 private:
  MultiTaskModel& model_;
  TrainConfig cfg_;
  std::unique_ptr<ThreadPool> pool_;
  Rng shuffle_rng_;
  int epoch_ = 0;
  std::vector<uint32_t> order_;
  std::vector<int32_t> batch_users_, batch_items_;
  std::vector<float> batch_labels_;
  std::vector<std::vector<float>> dense_acc_;
  std::vector<float> user_acc_, item_acc_;
};

}  // namespace tandem
