#include "tandem/model/task.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tandem/core/error.h"
#include "tandem/model/mse_loss.h"

namespace tandem {

namespace {
// Score rows per block of the retrieval softmax (per worker).
constexpr int64_t kBlockRows = 256;
}  // namespace

std::string to_string(ExtraTaskKind k) {
  switch (k) {
    case ExtraTaskKind::kBinary: return "binary";
  }
  return "?";
}

ExtraTaskKind parse_extra_task_kind(const std::string& s) {
  if (s == "binary") return ExtraTaskKind::kBinary;
  TANDEM_THROW("unknown task kind '" << s << "' (known: binary)");
}

// ---- HeadTask ---------------------------------------------------------------

HeadTask::HeadTask(std::string name, Kind kind, int64_t in, const std::vector<int64_t>& hidden,
                   int64_t max_batch, int workers, float label_threshold)
    : name_(std::move(name)),
      kind_(kind),
      label_threshold_(label_threshold),
      head_(in, hidden, 1, max_batch),
      workers_(workers),
      batch_loss_(kind == Kind::kRating ? max_batch : 0),
      head_grads_(static_cast<size_t>(workers)),
      worker_loss_(static_cast<size_t>(workers), 0.0) {
  TANDEM_CHECK(workers >= 1, "task '" << name_ << "': worker count must be positive, got " << workers);
  // The rating head keeps the name models have always stored.
  head_.set_name(kind == Kind::kRating ? "rating_head" : name_ + "_head");
  for (auto& g : head_grads_) g.assign(static_cast<size_t>(head_.parameter_count()), 0.0f);
}

Footprint HeadTask::footprint(Kind kind, int64_t in, const std::vector<int64_t>& hidden,
                              int64_t max_batch, int workers) {
  Footprint f = Mlp::footprint(in, hidden, 1, max_batch);
  f.gradients = footprint_add(f.gradients, footprint_mul(f.parameters, workers));
  f += RankingLoss::footprint(kind == Kind::kRating ? max_batch : 0);
  f.workspace = footprint_add(f.workspace, bytes_of<double>(workers));
  return f;
}

Footprint HeadTask::allocated() const {
  Footprint f = head_.allocated() + batch_loss_.allocated();
  for (const auto& g : head_grads_) f.gradients += bytes_held(g);
  f.workspace += bytes_held(worker_loss_);
  return f;
}

void HeadTask::zero_gradients() {
  for (auto& p : head_.parameters()) std::fill_n(p.grad, p.size, 0.0f);
}

void HeadTask::backward_rows(int worker, const Range& r, const TaskVectors& v) {
  const int64_t td = v.dim;
  const auto row_bytes = static_cast<size_t>(td) * sizeof(float);
  head_.bprop_rows(r.begin, r.end, head_grads_[static_cast<size_t>(worker)].data());
  const float* dx = head_.input_grad();
  if (v.overwrite) {
    for (int64_t i = r.begin; i < r.end; ++i) {
      std::memcpy(v.du + i * td, dx + i * 2 * td, row_bytes);
      std::memcpy(v.dm + i * td, dx + i * 2 * td + td, row_bytes);
    }
    return;
  }
  for (int64_t i = r.begin; i < r.end; ++i) {
    for (int64_t j = 0; j < td; ++j) {
      v.du[i * td + j] += dx[i * 2 * td + j];
      v.dm[i * td + j] += dx[i * 2 * td + td + j];
    }
  }
}

double HeadTask::forward_backward(const Batch& batch, const TaskVectors& v, float scale,
                                  ThreadPool* pool) {
  const int64_t n = batch.size;
  const int workers = pool ? pool->size() : 1;
  TANDEM_CHECK(workers <= workers_, "task '" << name_ << "' built for " << workers_
                                             << " workers, run with " << workers);
  // MSE's and BCE's gradients need only the global n, not other rows: each
  // worker runs its slice's forward, loss and backward in one pass. The other
  // ranking losses couple examples of one user wherever they lie in the
  // batch: every slice's forward first, the loss once over the whole batch,
  // then every slice's backward.
  const bool coupled = kind_ == Kind::kRating && spec_.kind != RankingLossKind::kMse;
  // A rank's part of a larger batch: the mean is over the whole batch.
  const int64_t n_total = batch.whole_size();
  TANDEM_CHECK(!coupled || n_total == n,
               "task '" << name_ << "': the " << to_string(spec_.kind)
                        << " ranking loss couples the examples of a user across the batch and "
                           "cannot run on one rank's part of it (use the mse loss with several ranks)");
  run_workers(pool, [&](int worker) {
    const Range r = split_range(n, workers, worker);
    const auto w = static_cast<size_t>(worker);
    if (r.size() == 0) {
      std::fill(head_grads_[w].begin(), head_grads_[w].end(), 0.0f);
      worker_loss_[w] = 0.0;
      return;
    }
    const int64_t td = v.dim;
    const auto row_bytes = static_cast<size_t>(td) * sizeof(float);
    float* x = head_.input();
    for (int64_t i = r.begin; i < r.end; ++i) {
      std::memcpy(x + i * 2 * td, v.u + i * td, row_bytes);
      std::memcpy(x + i * 2 * td + td, v.m + i * td, row_bytes);
    }
    head_.fprop_rows(r.begin, r.end);
    if (coupled) return;
    const float* out = head_.output() + r.begin;
    const float* labels = batch.labels + r.begin;
    float* grad = head_.output_grad() + r.begin;
    if (kind_ == Kind::kBinary) {
      worker_loss_[w] = bce_slice_sum_and_backward(out, labels, batch.weights ? batch.weights + r.begin : nullptr,
                                                   r.size(), n_total, label_threshold_, scale, grad);
    } else {
      worker_loss_[w] = batch.weights ? MseLoss::weighted_slice_sum_and_backward(
                                            out, labels, batch.weights + r.begin, r.size(), n_total, scale, grad)
                                      : MseLoss::slice_sum_and_backward(out, labels, r.size(), n_total, scale, grad);
    }
    backward_rows(worker, r, v);
  });
  double loss = 0.0;
  if (coupled) {
    loss = batch_loss_.forward_backward(spec_, head_.output(), batch.labels, batch.users,
                                        batch.weights, n, scale, head_.output_grad());
    run_workers(pool, [&](int worker) {
      const Range r = split_range(n, workers, worker);
      // An empty slice zeroed its gradients above.
      if (r.size() > 0) backward_rows(worker, r, v);
    });
  } else {
    double sum = 0.0;
    for (int k = 0; k < workers; ++k) sum += worker_loss_[static_cast<size_t>(k)];
    loss = sum / static_cast<double>(n_total);
  }
  {
    PhaseTimer timer(profile_, StepPhase::kReduce);
    head_.sum_gradients(head_grads_, workers);
  }
  return loss;
}

double bce_slice_sum_and_backward(const float* logits, const float* labels, const float* weights,
                                  int64_t n, int64_t n_total, float threshold, float scale,
                                  float* grad) {
  if (n <= 0 || n_total <= 0) return 0.0;
  const double c = static_cast<double>(scale) / static_cast<double>(n_total);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double z = logits[i];
    const double y = labels[i] >= threshold ? 1.0 : 0.0;
    const double w = weights ? static_cast<double>(weights[i]) : 1.0;
    // softplus(z) = max(z, 0) + log1p(exp(-|z|)), stable for any z.
    const double softplus = std::max(z, 0.0) + std::log1p(std::exp(-std::abs(z)));
    const double sigmoid = z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z));
    sum += w * (softplus - y * z);
    grad[i] = static_cast<float>(c * w * (sigmoid - y));
  }
  return sum;
}

// ---- RetrievalTask ----------------------------------------------------------

RetrievalTask::RetrievalTask(int64_t user_rows, int64_t item_rows, int64_t max_batch,
                             int64_t max_dim, int workers, bool per_example_queries)
    : user_rows_(user_rows),
      item_rows_(item_rows),
      max_batch_(max_batch),
      max_dim_(max_dim),
      workers_(workers),
      per_example_(per_example_queries),
      loss_(std::make_unique<RetrievalSoftmaxLoss>(max_batch, max_batch, max_batch, kBlockRows, workers)) {
  loss_->prepare_batches(user_rows, item_rows, max_dim);
}

Footprint RetrievalTask::footprint(int64_t user_rows, int64_t item_rows, int64_t max_batch,
                                   int64_t max_dim, int workers) {
  return RetrievalSoftmaxLoss::footprint(max_batch, max_batch, max_batch, kBlockRows, workers, user_rows,
                                         item_rows, max_dim);
}

void RetrievalTask::set_precision(blas::GemmPrecision p) {
  loss_->set_precision(p);
  precision_ = p;
}

void RetrievalTask::configure(const RetrievalLossOptions& options,
                              std::vector<float> item_log_probability,
                              std::vector<int32_t> negative_pool) {
  options_ = options;
  item_log_probability_ = std::move(item_log_probability);
  negative_pool_ = std::move(negative_pool);
  // Mixed negatives are extra columns.
  const int64_t cols = max_batch_ + options.mixed_negatives;
  loss_ = std::make_unique<RetrievalSoftmaxLoss>(max_batch_, cols, max_batch_, kBlockRows, workers_);
  loss_->prepare_batches(user_rows_, item_rows_, max_dim_, item_log_probability_,
                         static_cast<int64_t>(negative_pool_.size()));
  loss_->set_profile(profile_);
  loss_->set_precision(precision_);
  configured_ = true;
}

double RetrievalTask::forward_backward(const Batch& batch, const TaskVectors& v,
                                       const int32_t* column_items, int64_t sampled, float scale,
                                       ThreadPool* pool, int64_t& score_rows, int64_t& score_cols) {
  // The whole batch is the one part of itself.
  return forward_backward_part(batch, v, column_items, batch.size, 0, sampled, scale, pool, score_rows, score_cols);
}

double RetrievalTask::forward_backward_part(const Batch& part, const TaskVectors& v,
                                            const int32_t* column_items, int64_t columns,
                                            int64_t part_begin, int64_t sampled, float scale,
                                            ThreadPool* pool, int64_t& score_rows, int64_t& score_cols) {
  RetrievalBatch b;
  b.queries = v.u;
  b.items = v.m;
  b.dq = v.du;
  b.dc = v.dm;
  b.n = columns;
  b.d = v.dim;
  b.sampled = sampled;
  b.query_ids = per_example_ ? nullptr : part.users;
  b.item_ids = column_items;
  b.weights = part.weights;
  b.query_begin = part_begin;
  b.query_count = part.size;
  const double loss = loss_->forward_backward(b, options_, scale, distinct_rows_, pool);
  score_rows = loss_->last_score_rows();
  score_cols = loss_->last_score_cols();
  return loss;
}

}  // namespace tandem
