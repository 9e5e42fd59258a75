// The tutorials' model: shared user and item embedding tables feeding two
// tasks at once (and optionally more; see task.h).
//  - retrieval: in-batch softmax over user . item scores (RetrievalTask)
//  - ranking:   an MLP over concat(user, item) predicting the rating (MseLoss),
//               or trained with another ranking loss (ranking_loss.h)
//  - extra tasks: further heads over concat(user, item), e.g. a binary
//               "liked" head (HeadTask)
// total = sum_t w_t L_t; a task whose weight is 0 is not computed at all.
// Optionally (ModelShape::multitask) each tower's embedding row passes
// through a mixture-of-experts layer (mmoe/ple) that gives each task its own
// user and item vectors, and the task weights can be learned
// (UncertaintyWeighting); with the defaults the model is the above, bit for
// bit.
#pragma once

#include <array>
#include <functional>
#include <cstdint>
#include <memory>
#include <vector>

#include "tandem/core/communicator.h"
#include "tandem/core/thread_pool.h"
#include "tandem/model/embedding_table.h"
#include "tandem/model/feature_tower.h"
#include "tandem/model/mlp.h"
#include "tandem/model/retrieval_softmax_loss.h"
#include "tandem/model/step_profile.h"
#include "tandem/model/ranking_loss.h"
#include "tandem/model/table_shard.h"
#include "tandem/model/multitask_architecture.h"
#include "tandem/model/task.h"
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
  // Tasks beyond retrieval and rating, in order (task 2, 3, ...).
  std::vector<ExtraTaskSpec> extra_tasks = {};
  int task_count() const { return 2 + static_cast<int>(extra_tasks.size()); }
  bool has_towers() const {
    return !user_tower.features.empty() || !item_tower.features.empty() ||
           !user_tower.layers.empty() || !item_tower.layers.empty();
  }
};

// The two built-in tasks, as indices into per-task vectors; extra task e is
// extra_task(e) (index 2 + e).
enum class Task { kRetrieval = 0, kRanking = 1 };
inline Task extra_task(int e) { return static_cast<Task>(2 + e); }

// Width of the towers' output (the expert layers' input, or with a shared
// bottom what both tasks read), else dim.
int64_t output_dim(const ModelShape& shape);
// The per-tower expert layer of this shape: one gate per task.
MoeLayout moe_layout_of(const ModelShape& shape);

// Trainable values of a model of this shape (both embedding tables and the
// rating head), computed without building it, so that a loader can compare it
// with what a file stores before allocating anything; saturates at INT64_MAX.
int64_t parameter_count(const ModelShape& shape);

// Per-task loss weights: retrieval, ranking, then each extra task's.
struct TaskWeights {
  float ranking = 1.0f;
  float retrieval = 1.0f;
  std::array<float, kMaxExtraTasks> extra{};  // extra task e's weight
  int extra_count = 0;

  int task_count() const { return 2 + extra_count; }
  // Task t's weight (t as in Task: 0 retrieval, 1 ranking, 2 + e extra e).
  float of(int t) const {
    return t == 0 ? retrieval : t == 1 ? ranking : extra[static_cast<size_t>(t - 2)];
  }
  float& of(int t) {
    return t == 0 ? retrieval : t == 1 ? ranking : extra[static_cast<size_t>(t - 2)];
  }
};

struct StepLosses {
  double ranking = 0.0;    // the batch's ranking loss, MSE by default (0 if not computed)
  double retrieval = 0.0;  // summed in-batch softmax cross-entropy (0 if not computed)
  // Each extra task's loss (BCE for a binary task; 0 if not computed).
  std::array<double, kMaxExtraTasks> extra{};
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
  // `shard`: with several ranks, the embedding tables hold only this rank's
  // rows (table_shard.h) and the step runs sharded (set_communicator); the
  // shape stays the whole model's. Side-feature towers, experts and learned
  // task weights are not sharded yet (refused).
  MultiTaskModel(const ModelShape& shape, int64_t max_batch, int workers = 1,
                 int64_t sampled_items = 0, TableShard shard = {});

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

  // The ranks a sharded model trains with (its shard's rank and count): then
  // `batch` in compute_gradients is this rank's part of the step's batch
  // (any size, 0 included; the parts in rank order make the whole), and:
  //  - the part's embedding rows are fetched from their owners (alltoallv),
  //    and the batch's item vectors gathered by every rank (allgather), so
  //    that the softmax runs over the whole batch's items;
  //  - each rank computes its own examples' softmax rows and head losses;
  //    the item vectors' gradients go back to their examples' ranks (a
  //    reduce-scatter), then every example's row gradients to the rows'
  //    owners (alltoallv), which sum them in batch order;
  //  - the dense gradients and the losses are summed over the ranks in rank
  //    order (Communicator::ordered_sum), so every replica stays identical.
  // The losses returned are the whole batch's. Null: the step is local.
  void set_communicator(Communicator* comm);
  Communicator* communicator() const { return comm_; }
  // What the sharded steps so far moved, in rows (docs/distributed.md turns
  // these into bytes): distinct rows this rank looked up, of which owned by
  // other ranks; examples whose row gradient went to another rank; the
  // batch's examples (all ranks') and this rank's part of them, summed over
  // steps.
  struct ShardedCounts {
    int64_t steps = 0;
    int64_t lookup_rows = 0, lookup_remote_rows = 0, served_rows = 0;
    int64_t scatter_examples = 0, scatter_remote_examples = 0;
    int64_t batch_examples = 0, part_examples = 0, part_item_rows = 0, sampled_rows = 0;
    int64_t dense_floats = 0;  // dense gradients summed over the ranks
  };
  const ShardedCounts& sharded_counts() const { return counts_; }
  // Collective: the embedding rows (user rows, or item rows when `items`)
  // of n global ids into out [n, dim], fetched from their owners; every rank
  // asks for its own list. For evaluating a sharded model.
  void fetch_rows(bool items, const int32_t* rows, int64_t n, float* out);
  const TableShard& shard() const { return shard_; }

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

  // Where the steps' time goes (step_profile.h): each phase of
  // compute_gradients adds its wall time to `profile` (null: none; the
  // profile must outlive the steps it records).
  void set_profile(StepProfile* profile);

  // Retrieval over the batch's distinct users and items (exact; default) or
  // over the full n x n score matrix.
  void set_distinct_rows(bool on) { retrieval_.set_distinct_rows(on); }
  // Precision of the retrieval softmax's score GEMMs (default float32).
  void set_softmax_precision(blas::GemmPrecision p) { retrieval_.set_precision(p); }
  // The ranking task's loss (default: MSE, computed per worker slice).
  void set_ranking_loss(const RankingLossSpec& spec) { heads_[0]->set_ranking_loss(spec); }
  const RankingLossSpec& ranking_loss() const { return heads_[0]->ranking_loss(); }

  // Options of the retrieval softmax (temperature, hit removal, logQ, hard and
  // mixed negatives; see RetrievalSoftmaxLoss). `item_log_probability` (one
  // per item row: log of its share of the training interactions) is needed
  // for the logQ correction, `negative_pool` (item rows, e.g. the catalogue's)
  // for mixed negatives. Allocates; call before training, not per step.
  void configure_retrieval(const RetrievalLossOptions& options,
                           std::vector<float> item_log_probability,
                           std::vector<int32_t> negative_pool);
  const RetrievalLossOptions& retrieval_options() const { return retrieval_.options(); }

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
  // Whether the user tower has a per-example (timestamp) feature, so that
  // user_vectors depends on `timestamps`.
  bool has_per_example_feature() const;
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
  // Per dense_parameters() entry: whether a step under these weights
  // computes its gradient (so that the optimizer must update it). A head
  // whose task is off gets none: it and its optimizer state must not move.
  std::vector<bool> trained_dense_parameters(const TaskWeights& weights) const;
  // Extra task e's outputs (binary: logits; sigmoid gives P(positive)) for n
  // (user row, item row) pairs, like predict_ratings; and from vectors
  // ([n, task_dim()] each, from user_vectors/item_vectors(extra_task(e))).
  void predict_extra(int e, const int32_t* users, const int32_t* items, int64_t n, float* out,
                     std::vector<float>& scratch, const int64_t* timestamps = nullptr) const;
  void predict_extra_from_vectors(int e, const float* users, const float* items, int64_t n,
                                  float* out, std::vector<float>& scratch) const;
  int extra_task_count() const { return static_cast<int>(shape_.extra_tasks.size()); }
  // The weights configured for the extra tasks (TaskWeights::extra).
  TaskWeights with_extra_weights(TaskWeights w) const;
  // exp(-s_t) per task with learned task weights; empty otherwise.
  std::vector<double> learned_task_weights() const;

  const ModelShape& shape() const { return shape_; }
  int64_t max_batch() const { return max_batch_; }
  EmbeddingTable& user_table() { return users_; }
  EmbeddingTable& item_table() { return items_; }
  const EmbeddingTable& user_table() const { return users_; }
  const EmbeddingTable& item_table() const { return items_; }
  Mlp& rating_head() { return heads_[0]->mlp(); }
  const Mlp& rating_head() const { return heads_[0]->mlp(); }
  // Head task h: 0 the rating head, 1 + e extra task e.
  const HeadTask& head_task(int h) const { return *heads_[static_cast<size_t>(h)]; }
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
  // The step, phase by phase (compute_gradients reads them in order).
  struct StepPlan {
    int64_t n = 0, item_n = 0, sampled = 0;
    const int32_t* item_rows = nullptr;  // the batch's items, then the sampled negatives
    int workers = 1;
  };
  StepPlan plan_step(const Batch& batch, const TaskWeights& fixed, ThreadPool* pool);
  void gather_and_towers_forward(const Batch& batch, const StepPlan& plan, ThreadPool* pool);
  void experts_forward(const StepPlan& plan);
  // Task t's vectors and gradient buffers this step (the embedding rows or
  // the towers' outputs, or with experts the task's mixture).
  TaskVectors task_vectors(int t, bool overwrite);
  // Head tasks (rating, then extras) on their vectors, then retrieval: every
  // task's loss into `losses`, gradients into the task vectors' buffers.
  void tasks_forward_backward(const Batch& batch, const StepPlan& plan, const TaskWeights& fixed,
                              const TaskWeights& w, ThreadPool* pool, StepLosses& losses);
  double weigh_losses(const TaskWeights& fixed, const TaskWeights& w, const StepLosses& losses);
  // Runs task t's forward/backward, adding its time to the profile (if any).
  double timed_task(int t, const std::function<double()>& run);
  void experts_backward(const StepPlan& plan);
  void towers_backward_and_scatter(const Batch& batch, const StepPlan& plan, ThreadPool* pool);
  // The sharded step (set_communicator), phase by phase.
  StepLosses compute_sharded(const Batch& part, const TaskWeights& fixed, ThreadPool* pool);
  // out[i] = global row ids[i] of `table` for i < n, fetched from the rows'
  // owners (each distinct row once).
  void lookup_rows(const EmbeddingTable& table, RowDedup& dedup, const int32_t* ids, int64_t n,
                   float* out);
  // Sends each (row, gradient [dim]) of n examples to the row's owner, which
  // sums what it receives (from rank 0's examples to the last's) into `grad`.
  void scatter_to_owners(RowGradient& grad, const int32_t* ids, const float* grads, int64_t n,
                         ThreadPool* pool);

  ModelShape shape_;
  int64_t out_dim_;
  int64_t max_batch_;
  int workers_;
  int64_t sampled_items_;  // capacity for mixed negatives on the item side
  EmbeddingTable users_, items_;
  // With mmoe/ple: one layer per tower (null with a shared bottom).
  std::unique_ptr<MixtureOfExperts> user_moe_, item_moe_;
  // With learned task weights (null with fixed ones).
  std::unique_ptr<UncertaintyWeighting> uncertainty_;
  // The tasks: retrieval (task 0), and the heads: rating (task 1), then the
  // extra tasks (2, 3, ...).
  RetrievalTask retrieval_;
  std::vector<std::unique_ptr<HeadTask>> heads_;
  // Step workspace, sized for max_batch at construction.
  // Per example [max_batch, width] (the item side also holds the step's
  // sampled negatives after the batch's items: [max_batch + sampled, width]).
  std::vector<float> user_emb_, item_emb_;
  std::vector<float> user_dgrad_, item_dgrad_;  // their gradients
  RowGradient user_grad_, item_grad_;
  std::unique_ptr<FeatureTower> user_tower_, item_tower_;  // null without towers
  // The item rows of the step: the batch's, then the sampled negatives'.
  std::vector<int32_t> grad_items_;
  // Draws this step's m mixed negatives into grad_items_[n, n + m) (after a
  // copy of the batch's items) from the batch's sample seed.
  void sample_negatives(const Batch& batch, int64_t m);
  StepProfile* profile_ = nullptr;
  // Sharding (set_communicator): this rank's shard of the tables and the
  // step's exchange buffers.
  TableShard shard_;
  Communicator* comm_ = nullptr;
  struct ShardedWorkspace {
    RowDedup user_rows, item_rows;       // distinct rows of a lookup
    int64_t item_capacity = 0;           // what item_rows was sized for
    std::vector<int32_t> items;          // the whole batch's items, then the sampled
    std::vector<float> my_items;         // this rank's part's item vectors
    std::vector<char> send, recv;        // alltoallv payloads
    std::vector<int32_t> ids;            // received ids
    std::vector<float> vectors;          // received gradients or rows
    std::vector<float> dense;            // the dense gradients, end to end
    // The dense parameters (fetched once) and which of them the step's
    // weights train (recomputed only when the weights change).
    std::vector<ParameterRef> params;
    std::vector<bool> trained;
    TaskWeights trained_for;
    bool trained_known = false;
  };
  std::unique_ptr<ShardedWorkspace> sharded_;
  ShardedCounts counts_;
};

}  // namespace tandem
