// The model's tasks as objects. A task owns its head (if any), its loss, its
// options, its step workspace (sized at construction: a step allocates
// nothing), its parameters and what it reports. MultiTaskModel holds the
// towers (and experts) and a list of weighted tasks:
//  - RetrievalTask: the retrieval softmax over user . item scores;
//  - HeadTask: an MLP over concat(user, item) vectors, either the rating head
//    (MSE, or another ranking loss; see ranking_loss.h) or a binary head
//    (BCE on a label derived from the data: rating >= a threshold).
// Tasks 0 and 1 are always retrieval and the rating head (the two the model
// has always had); extra tasks (ModelShape::extra_tasks) follow, 2, 3, ...
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tandem/core/random.h"
#include "tandem/core/thread_pool.h"
#include "tandem/model/mlp.h"
#include "tandem/model/parameter.h"
#include "tandem/model/ranking_loss.h"
#include "tandem/model/retrieval_softmax_loss.h"
#include "tandem/model/row_dedup.h"
#include "tandem/model/step_profile.h"

namespace tandem {

// The most extra tasks a model may have (their weights and losses travel in
// fixed arrays, so that a step allocates nothing).
constexpr int kMaxExtraTasks = 8;

// What an extra task learns.
enum class ExtraTaskKind {
  kBinary,  // P(rating >= positive_threshold), BCE on the logit
};
std::string to_string(ExtraTaskKind k);
// "binary"; anything else is an error naming the kinds.
ExtraTaskKind parse_extra_task_kind(const std::string& s);

// An extra task as configured (config/task_config.h parses and checks it).
struct ExtraTaskSpec {
  std::string name;
  ExtraTaskKind kind = ExtraTaskKind::kBinary;
  float weight = 1.0f;
  // Binary: a rating >= this (raw stars) is a positive.
  float positive_threshold = 4.0f;
  // The same threshold on the label scale the model trains on (set by
  // model_shape from the config's label transform; not stored in files).
  float label_threshold = 4.0f;
};

// One batch of (user row, item row, label) triples; pointers into the caller's
// arrays, valid for the call.
struct Batch {
  const int32_t* users = nullptr;
  const int32_t* items = nullptr;
  const float* labels = nullptr;
  int64_t size = 0;
  // Per-example weights for every task's loss; null = all 1.
  const float* weights = nullptr;
  // Seeds whatever the step samples (mixed negatives): a function of the step,
  // not a stream, so a resumed run samples what the uninterrupted one did.
  uint64_t sample_seed = 0;
  // Interaction timestamps, read only by a tower with a timestamp feature
  // (may be null otherwise).
  const int64_t* timestamps = nullptr;
  // With several ranks, this is one rank's part of a batch of global_size
  // examples: mean losses divide by global_size, so that the ranks' parts
  // add up to the whole batch's loss and gradient. 0: the batch is whole.
  int64_t global_size = 0;
  int64_t whole_size() const { return global_size > 0 ? global_size : size; }
};

// A task's inputs for one step and where their gradients go: user vectors
// u [n, dim], item vectors m [n + sampled, dim] (the sampled negatives' after
// the batch's), gradients du, dm of the same shapes. A head task's gradient
// overwrites du, dm when `overwrite` (the first writer of those buffers in
// the step), else adds to them; retrieval always adds.
struct TaskVectors {
  const float* u = nullptr;
  const float* m = nullptr;
  float* du = nullptr;
  float* dm = nullptr;
  int64_t dim = 0;
  bool overwrite = true;
};

// Runs f(worker) on every worker of the pool, or f(0) without one.
template <class F>
void run_workers(ThreadPool* pool, const F& f) {
  if (pool) {
    pool->run(f);
  } else {
    f(0);
  }
}

// An MLP head over concat(user, item) task vectors with one output.
class HeadTask {
 public:
  enum class Kind { kRating, kBinary };
  // `in`: the concatenated width (2 x task dim). `label_threshold` (binary):
  // a label >= it is a positive. Parameters are named `<name>.<layer>.*`.
  HeadTask(std::string name, Kind kind, int64_t in, const std::vector<int64_t>& hidden,
           int64_t max_batch, int workers, float label_threshold = 0.0f);

  void init(Rng& rng) { head_.init_glorot(rng); }
  // What one allocates (footprint.h): the Mlp, a packed gradient per
  // worker, the rating loss's workspace, the per-worker losses.
  static Footprint footprint(Kind kind, int64_t in, const std::vector<int64_t>& hidden, int64_t max_batch,
                             int workers);
  Footprint allocated() const;
  // The rating head's loss (default MSE); a binary head keeps BCE.
  void set_ranking_loss(const RankingLossSpec& spec) { spec_ = spec; }
  // The sum of the workers' partial gradients adds its time to `profile`'s
  // reduce phase (null: not recorded).
  void set_profile(StepProfile* profile) { profile_ = profile; }
  const RankingLossSpec& ranking_loss() const { return spec_; }

  // Forward and backward over the batch: the loss (mean over examples, as
  // the loss defines it), gradients scaled by `scale` into v.du, v.dm and
  // the head's parameter gradients. Each worker takes its contiguous slice.
  double forward_backward(const Batch& batch, const TaskVectors& v, float scale, ThreadPool* pool);
  // Zeroes the head's parameter gradients (a step that did not compute them).
  void zero_gradients();

  // Outputs for n concatenated inputs x [n, in]: a predicted label (rating
  // under MSE), else a logit (binary: sigmoid gives P(positive)).
  void predict(const float* x, int64_t n, float* out, std::vector<float>& scratch) const {
    head_.predict(x, n, out, scratch);
  }

  const std::string& name() const { return name_; }
  Kind kind() const { return kind_; }
  Mlp& mlp() { return head_; }
  const Mlp& mlp() const { return head_; }
  std::vector<ParameterRef> parameters() { return head_.parameters(); }
  std::vector<ParameterView> parameter_values() const { return head_.parameter_values(); }

 private:
  // The head's backward on rows r into du, dm.
  void backward_rows(int worker, const Range& r, const TaskVectors& v);
  std::string name_;
  Kind kind_;
  float label_threshold_;
  Mlp head_;
  StepProfile* profile_ = nullptr;
  int workers_;
  RankingLossSpec spec_;
  RankingLoss batch_loss_;                      // the losses coupling examples
  std::vector<std::vector<float>> head_grads_;  // per worker, packed head gradients
  std::vector<double> worker_loss_;
};

// Binary cross-entropy on logits over one worker's slice: returns
// sum_i w_i (softplus(z_i) - y_i z_i) with y_i = [label_i >= threshold],
// and writes grad_i = scale w_i (sigmoid(z_i) - y_i) / n_total.
double bce_slice_sum_and_backward(const float* logits, const float* labels, const float* weights,
                                  int64_t n, int64_t n_total, float threshold, float scale,
                                  float* grad);

// The retrieval task: the softmax over the batch's user . item scores
// (RetrievalSoftmaxLoss: plain over distinct rows or the full matrix, or
// with options / example weights the general one: temperature, hit removal,
// logQ, hard and mixed negatives).
class RetrievalTask {
 public:
  // `max_dim` bounds the width of the vectors it will be given;
  // `per_example_queries`: every example is its own query (a per-example
  // user feature makes a user's vectors differ between examples).
  RetrievalTask(int64_t user_rows, int64_t item_rows, int64_t max_batch, int64_t max_dim,
                int workers, bool per_example_queries);

  void set_distinct_rows(bool on) { distinct_rows_ = on; }
  void set_profile(StepProfile* profile) {
    profile_ = profile;
    loss_->set_profile(profile);
  }
  // Precision of the softmax's score GEMMs (RetrievalSoftmaxLoss::set_precision).
  void set_precision(blas::GemmPrecision p);
  // See MultiTaskModel::configure_retrieval (which checks the arguments).
  void configure(const RetrievalLossOptions& options, std::vector<float> item_log_probability,
                 std::vector<int32_t> negative_pool);
  const RetrievalLossOptions& options() const { return options_; }
  bool configured() const { return configured_; }
  // Whether this batch takes the general softmax (options or weights).
  bool optioned(const Batch& batch) const { return options_.any() || batch.weights != nullptr; }
  const std::vector<int32_t>& negative_pool() const { return negative_pool_; }
  const std::vector<float>& item_log_probability() const { return item_log_probability_; }
  // Its loss's footprint as constructed (before configure(), which sizes
  // mixed negatives' columns), and what it holds.
  static Footprint footprint(int64_t user_rows, int64_t item_rows, int64_t max_batch, int64_t max_dim,
                             int workers);
  Footprint allocated() const { return loss_->allocated(); }

  // The summed softmax cross-entropy; gradients scaled by `scale` ADDED to
  // v.du, v.dm. `column_items` are the item rows of v.m's rows (the batch's,
  // then `sampled` mixed negatives). Sets the score matrix's size.
  double forward_backward(const Batch& batch, const TaskVectors& v, const int32_t* column_items,
                          int64_t sampled, float scale, ThreadPool* pool, int64_t& score_rows,
                          int64_t& score_cols);
  // One rank's part of a batch of `columns` examples spread over ranks:
  // `part` holds examples [part_begin, part_begin + part.size) of it, v.u and
  // v.du their rows alone; v.m, v.dm and column_items are the whole batch's
  // (then the sampled negatives'). v.dm receives this part's share of every
  // column's gradient (RetrievalBatch::query_begin).
  double forward_backward_part(const Batch& part, const TaskVectors& v, const int32_t* column_items,
                               int64_t columns, int64_t part_begin, int64_t sampled, float scale,
                               ThreadPool* pool, int64_t& score_rows, int64_t& score_cols);

 private:
  int64_t user_rows_, item_rows_, max_batch_, max_dim_;
  int workers_;
  bool per_example_;
  bool distinct_rows_ = true;
  StepProfile* profile_ = nullptr;
  blas::GemmPrecision precision_ = blas::GemmPrecision::kFloat32;
  bool configured_ = false;
  RetrievalLossOptions options_;
  std::vector<float> item_log_probability_;
  std::vector<int32_t> negative_pool_;
  std::unique_ptr<RetrievalSoftmaxLoss> loss_;
};

}  // namespace tandem
