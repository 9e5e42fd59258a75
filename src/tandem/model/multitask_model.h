// The tutorials' model: shared user and item embedding tables feeding two
// tasks at once.
//  - retrieval: in-batch softmax over user . item scores (InBatchSoftmaxLoss)
//  - ranking:   an MLP over concat(user, item) predicting the rating (MseLoss),
//               or trained with another ranking loss (ranking_loss.h)
// total = w_retrieval * L_retrieval + w_ranking * L_ranking; a task whose
// weight is 0 is not computed at all.
// Optionally (ModelShape::multitask) each tower's embedding row passes
// through a mixture-of-experts layer (mmoe/ple) that gives each task its own
// user and item vectors, and the task weights can be learned
// (UncertaintyWeighting); with the defaults the model is the above, bit for
// bit.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "tandem/core/thread_pool.h"
#include "tandem/model/embedding_table.h"
#include "tandem/model/feature_tower.h"
#include "tandem/model/in_batch_softmax_loss.h"
#include "tandem/model/mlp.h"
#include "tandem/model/retrieval_softmax_loss.h"
#include "tandem/model/ranking_loss.h"
#include "tandem/model/multitask_architecture.h"
#include "tandem/model/uncertainty_weighting.h"

namespace tandem {

struct ModelShape {
  int64_t user_rows = 0;
  int64_t item_rows = 0;
  int64_t dim = 32;
  std::vector<int64_t> hidden = {256, 128};
  // Shared bottom (default), or a mixture-of-experts layer per tower giving
  // each task its own user and item vectors; fixed or learned task weights.
  MultitaskSpec multitask = {};
  // Side-feature towers (feature_tower.h). When both are empty the model is
  // the id embeddings alone, exactly as without towers. With experts
  // (mmoe/ple) the towers' outputs are the expert layers' inputs.
  TowerSpec user_tower{}, item_tower{};
  bool has_towers() const {
    return !user_tower.features.empty() || !item_tower.features.empty() ||
           !user_tower.layers.empty() || !item_tower.layers.empty();
  }
};

// The two tasks, as indices into per-task vectors.
enum class Task { kRetrieval = 0, kRanking = 1 };

// Width of the towers' output (the expert layers' input, or with a shared
// bottom what both tasks read), else dim.
int64_t output_dim(const ModelShape& shape);

// Trainable values of a model of this shape (both embedding tables and the
// rating head), computed without building it, so that a loader can compare it
// with what a file stores before allocating anything; saturates at INT64_MAX.
int64_t parameter_count(const ModelShape& shape);

struct TaskWeights {
  float ranking = 1.0f;
  float retrieval = 1.0f;
};

// One batch of (user row, item row, label) triples; pointers into the caller's
// arrays, valid for the call.
struct Batch {
  const int32_t* users = nullptr;
  const int32_t* items = nullptr;
  const float* labels = nullptr;
  int64_t size = 0;
  // Per-example weights for both tasks' losses; null = all 1.
  const float* weights = nullptr;
  // Seeds whatever the step samples (mixed negatives): a function of the step,
  // not a stream, so a resumed run samples what the uninterrupted one did.
  uint64_t sample_seed = 0;
  // Interaction timestamps, read only by a tower with a timestamp feature
  // (may be null otherwise).
  const int64_t* timestamps = nullptr;
};

struct StepLosses {
  double ranking = 0.0;    // the batch's ranking loss, MSE by default (0 if not computed)
  double retrieval = 0.0;  // summed in-batch softmax cross-entropy (0 if not computed)
  double total = 0.0;      // weighted sum
  // Score-matrix size the retrieval task actually computed (distinct queries
  // x distinct candidates, or n x n): what its GEMM FLOPs scale with.
  int64_t score_rows = 0, score_cols = 0;
};

class MultiTaskModel {
 public:
  // `workers`: the thread count compute_gradients will be run with.
  // `sampled_items`: the most mixed negatives (configure_retrieval) a step
  // will draw; with towers or experts the item side's layers run over the
  // batch's items and those, so they are sized for both here.
  MultiTaskModel(const ModelShape& shape, int64_t max_batch, int workers = 1,
                 int64_t sampled_items = 0);

  // Keras defaults: embeddings uniform(-0.05, 0.05), Glorot-uniform kernels,
  // zero biases; each part from its own stream derived from `seed`.
  void init(uint64_t seed);

  // Forward and backward for one batch. Leaves gradients in the rating head's
  // parameter buffers (when w_ranking != 0) and in user_grad()/item_grad().
  // With a pool, each worker takes a contiguous slice of the batch (rows of
  // the rating head, row blocks of the score matrix); partial gradients are
  // summed in worker order, so results are deterministic per thread count.
  StepLosses compute_gradients(const Batch& batch, const TaskWeights& weights,
                               ThreadPool* pool = nullptr);

  // The rating head's outputs for n (user row, item row) pairs: a predicted
  // label under the mse loss, a logit under bce, a score under the pairwise
  // and listwise losses (see ranking_loss.h). `scratch` is the caller's (one
  // per thread). Reads only weights.
  // With a timestamp feature, `timestamps` are the pairs' (null: the most
  // recent bucket).
  void predict_ratings(const int32_t* users, const int32_t* items, int64_t n, float* out,
                       std::vector<float>& scratch, const int64_t* timestamps = nullptr) const;

  // Rating-head outputs for n pairs of ranking vectors ([n, task_dim()]
  // each, from user_vectors/item_vectors(Task::kRanking)).
  void predict_from_vectors(const float* users, const float* items, int64_t n, float* out,
                            std::vector<float>& scratch) const;

  // Retrieval over the batch's distinct users and items (exact; default) or
  // over the full n x n score matrix.
  void set_distinct_rows(bool on) { distinct_rows_ = on; }
  // The ranking task's loss (default: MSE, computed per worker slice).
  void set_ranking_loss(const RankingLossSpec& spec) { ranking_spec_ = spec; }
  const RankingLossSpec& ranking_loss() const { return ranking_spec_; }

  // Options of the retrieval softmax (temperature, hit removal, logQ, hard and
  // mixed negatives; see RetrievalSoftmaxLoss). `item_log_probability` (one
  // per item row: log of its share of the training interactions) is needed
  // for the logQ correction, `negative_pool` (item rows, e.g. the catalogue's)
  // for mixed negatives. Allocates; call before training, not per step.
  void configure_retrieval(const RetrievalLossOptions& options,
                           std::vector<float> item_log_probability,
                           std::vector<int32_t> negative_pool);
  const RetrievalLossOptions& retrieval_options() const { return retrieval_options_; }

  // Task t's vectors for n user (item) rows into out [n, task_dim()]: the
  // embedding rows with a shared bottom, the side-feature towers' output
  // (the same for both tasks) with towers, the tower's task-t expert mixture
  // with experts. Retrieval scores are user_vectors(kRetrieval) .
  // item_vectors(kRetrieval); the rating head reads concat of the kRanking
  // ones. Reads only weights: thread-safe with one scratch per thread.
  // `timestamps` (one per row) feed a timestamp feature; null: the most
  // recent bucket.
  void user_vectors(Task t, const int32_t* rows, int64_t n, float* out,
                    std::vector<float>& scratch, const int64_t* timestamps = nullptr) const;
  void item_vectors(Task t, const int32_t* rows, int64_t n, float* out,
                    std::vector<float>& scratch) const;
  // Task t's vector [task_dim()] of a user given by its inputs (a user the
  // model has no row for, described by its features): the user tower's
  // output for them, mixed per task with experts. Needs side-feature towers.
  void described_user_vector(Task t, const DescribedEntity& user, float* out,
                             std::vector<float>& scratch) const;
  int64_t task_dim() const;
  // True when the tasks read the embedding rows as they are (shared bottom),
  // so callers may use the tables directly.
  bool embeddings_are_task_vectors() const {
    return !shape_.multitask.has_experts() && !shape_.has_towers();
  }
  // True when dense parameters get gradients even from a retrieval-only step
  // (experts, learned task weights, tower MLPs), so the optimizer must update
  // them then.
  bool retrieval_trains_dense() const;
  // exp(-s_t) per task with learned task weights; empty otherwise.
  std::vector<double> learned_task_weights() const;

  const ModelShape& shape() const { return shape_; }
  int64_t max_batch() const { return max_batch_; }
  EmbeddingTable& user_table() { return users_; }
  EmbeddingTable& item_table() { return items_; }
  const EmbeddingTable& user_table() const { return users_; }
  const EmbeddingTable& item_table() const { return items_; }
  Mlp& rating_head() { return head_; }
  const Mlp& rating_head() const { return head_; }
  const RowGradient& user_grad() const { return user_grad_; }
  const RowGradient& item_grad() const { return item_grad_; }
  FeatureTower* user_tower() { return user_tower_.get(); }
  FeatureTower* item_tower() { return item_tower_.get(); }
  // Every trainable value of the model, in a fixed order: the dense
  // parameters (updated densely) and the embedding tables (updated on the
  // rows a batch touched). Optimizers, checkpoints and model files walk these
  // lists by name, so a new layer or table only has to be listed here.
  std::vector<ParameterRef> dense_parameters();
  std::vector<ParameterView> dense_parameter_values() const;
  std::vector<SparseParameterRef> sparse_parameters();
  std::vector<TableView> sparse_parameter_values() const;
  // The buffers this model holds (footprint.h), as plan_model (model_plan.h,
  // where this is defined) predicts them; the loss objects' own workspace
  // and the optioned softmax's buffers are not included.
  Footprint allocated() const;

 private:
  ModelShape shape_;
  int64_t out_dim_;
  int64_t max_batch_;
  int workers_;
  int64_t sampled_items_;  // capacity for mixed negatives on the item side
  EmbeddingTable users_, items_;
  Mlp head_;
  // With mmoe/ple: one layer per tower (null with a shared bottom).
  std::unique_ptr<MixtureOfExperts> user_moe_, item_moe_;
  // With learned task weights (null with fixed ones).
  std::unique_ptr<UncertaintyWeighting> uncertainty_;
  InBatchSoftmaxLoss retrieval_loss_;
  // Step workspace, sized for max_batch at construction.
  // Per example [max_batch, width] (the item side also holds the step's
  // sampled negatives after the batch's items: [max_batch + sampled, width]).
  std::vector<float> user_emb_, item_emb_;
  std::vector<float> user_dgrad_, item_dgrad_;  // their gradients
  std::vector<std::vector<float>> head_grads_;  // per worker, packed head gradients
  std::vector<double> worker_mse_;
  RowGradient user_grad_, item_grad_;
  RowDedup user_dedup_, item_dedup_;
  // With a per-example feature every example is its own retrieval query:
  // example_dedup_ over example_ids_ (0, 1, ..., max_batch - 1).
  RowDedup example_dedup_;
  std::vector<int32_t> example_ids_;
  std::unique_ptr<FeatureTower> user_tower_, item_tower_;  // null without towers
  bool distinct_rows_ = true;

  // The optioned retrieval softmax (used when options are set or examples
  // carry weights), and its step workspace.
  // Reads the retrieval vectors ret_u ([n, d]) and ret_m ([n + sampled, d]:
  // the sampled negatives' after the batch's, see sample_negatives) and adds
  // the loss's gradients to ret_du, ret_dm.
  double optioned_retrieval(const Batch& batch, float scale, ThreadPool* pool, StepLosses& losses,
                            const float* ret_u, const float* ret_m, float* ret_du, float* ret_dm,
                            int64_t d);
  RetrievalLossOptions retrieval_options_;
  std::unique_ptr<RetrievalSoftmaxLoss> optioned_loss_;
  std::vector<float> item_log_probability_;
  std::vector<int32_t> negative_pool_;
  std::vector<float> queries_, columns_, column_log_weight_, column_correction_, dq_distinct_, dc_columns_;
  // The item rows of the step: the batch's, then the sampled negatives'.
  std::vector<int32_t> column_item_, grad_items_;
  // Draws this step's m mixed negatives into grad_items_[n, n + m) (after a
  // copy of the batch's items) from the batch's sample seed.
  void sample_negatives(const Batch& batch, int64_t m);
  RankingLossSpec ranking_spec_;
  RankingLoss ranking_loss_;  // the losses other than MSE, over the whole batch
  bool has_per_example_feature() const;  // the user tower has a timestamp feature
};

}  // namespace tandem
