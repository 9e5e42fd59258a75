// The tutorials' model: shared user and item embedding tables feeding two
// tasks at once.
//  - retrieval: in-batch softmax over user . item scores (InBatchSoftmaxLoss)
//  - ranking:   an MLP over concat(user, item) predicting the rating (MseLoss)
// total = w_retrieval * L_retrieval + w_ranking * L_ranking; a task whose
// weight is 0 is not computed at all.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "tandem/core/thread_pool.h"
#include "tandem/model/embedding_table.h"
#include "tandem/model/feature_tower.h"
#include "tandem/model/in_batch_softmax_loss.h"
#include "tandem/model/mlp.h"

namespace tandem {

struct ModelShape {
  int64_t user_rows = 0;
  int64_t item_rows = 0;
  int64_t dim = 32;
  std::vector<int64_t> hidden = {256, 128};
  // Side-feature towers (feature_tower.h). When both are empty the model is
  // the id embeddings alone, exactly as without towers.
  TowerSpec user_tower{}, item_tower{};
  bool has_towers() const {
    return !user_tower.features.empty() || !item_tower.features.empty() ||
           !user_tower.layers.empty() || !item_tower.layers.empty();
  }
};

// Width of the vectors the two tasks read: the towers' output, else dim.
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
  // Interaction timestamps, read only by a tower with a timestamp feature
  // (may be null otherwise).
  const int64_t* timestamps = nullptr;
};

struct StepLosses {
  double ranking = 0.0;    // mean squared error of the batch (0 if not computed)
  double retrieval = 0.0;  // summed in-batch softmax cross-entropy (0 if not computed)
  double total = 0.0;      // weighted sum
  // Score-matrix size the retrieval task actually computed (distinct queries
  // x distinct candidates, or n x n): what its GEMM FLOPs scale with.
  int64_t score_rows = 0, score_cols = 0;
};

class MultiTaskModel {
 public:
  // `workers`: the thread count compute_gradients will be run with.
  MultiTaskModel(const ModelShape& shape, int64_t max_batch, int workers = 1);

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

  // Predicted ratings for n (user row, item row) pairs; `scratch` is the
  // caller's (one per thread). Reads only weights.
  // With a timestamp feature, `timestamps` are the pairs' (null: the most
  // recent bucket).
  void predict_ratings(const int32_t* users, const int32_t* items, int64_t n, float* out,
                       std::vector<float>& scratch, const int64_t* timestamps = nullptr) const;

  // The vectors retrieval scores (user . item) and the rating head reads, for
  // n user-table / item-table rows: the id embedding rows, or the towers'
  // outputs. `out` is [n, output_dim()]. Reads only weights.
  void user_vectors(const int32_t* rows, const int64_t* timestamps, int64_t n, float* out) const;
  void item_vectors(const int32_t* rows, int64_t n, float* out) const;
  // Rating-head outputs for n pairs of such vectors.
  void predict_from_vectors(const float* users, const float* items, int64_t n, float* out,
                            std::vector<float>& scratch) const;
  int64_t output_dim() const { return out_dim_; }
  // Whether compute_gradients leaves gradients in every dense parameter for
  // these weights (the rating head's only when ranking is on; tower MLPs'
  // always), i.e. whether an optimizer should step them.
  bool dense_gradients_computed(const TaskWeights& w) const {
    return w.ranking != 0.0f || shape_.has_towers();
  }

  // Retrieval over the batch's distinct users and items (exact; default) or
  // over the full n x n score matrix.
  void set_distinct_rows(bool on) { distinct_rows_ = on; }

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

 private:
  ModelShape shape_;
  int64_t out_dim_;
  int64_t max_batch_;
  int workers_;
  EmbeddingTable users_, items_;
  Mlp head_;
  InBatchSoftmaxLoss retrieval_loss_;
  // Step workspace, sized for max_batch at construction.
  std::vector<float> user_emb_, item_emb_;    // [max_batch, dim]
  std::vector<float> user_dgrad_, item_dgrad_;  // per-example grads [max_batch, dim]
  std::vector<std::vector<float>> head_grads_;  // per worker, packed head gradients
  std::vector<double> worker_mse_;
  RowGradient user_grad_, item_grad_;
  RowDedup user_dedup_, item_dedup_;
  std::unique_ptr<FeatureTower> user_tower_, item_tower_;  // null without towers
  bool distinct_rows_ = true;
};

}  // namespace tandem
