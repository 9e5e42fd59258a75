#include "tandem/model/task.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tandem/core/error.h"
#include "tandem/model/mse_loss.h"

namespace tandem {

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
                                                   r.size(), n, label_threshold_, scale, grad);
    } else {
      worker_loss_[w] = batch.weights ? MseLoss::weighted_slice_sum_and_backward(
                                            out, labels, batch.weights + r.begin, r.size(), n, scale, grad)
                                      : MseLoss::slice_sum_and_backward(out, labels, r.size(), n, scale, grad);
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
    loss = sum / static_cast<double>(n);
  }
  head_.sum_gradients(head_grads_, workers);
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
    : max_batch_(max_batch),
      max_dim_(max_dim),
      workers_(workers),
      plain_loss_(max_batch, 256, workers),
      user_dedup_(user_rows, max_batch),
      item_dedup_(item_rows, max_batch) {
  if (per_example_queries) {
    example_dedup_ = RowDedup(max_batch, max_batch);
    example_ids_.resize(static_cast<size_t>(max_batch));
    for (int64_t i = 0; i < max_batch; ++i) example_ids_[static_cast<size_t>(i)] = static_cast<int32_t>(i);
  }
}

void RetrievalTask::configure(const RetrievalLossOptions& options,
                              std::vector<float> item_log_probability,
                              std::vector<int32_t> negative_pool) {
  options_ = options;
  item_log_probability_ = std::move(item_log_probability);
  negative_pool_ = std::move(negative_pool);
  const int64_t d = max_dim_;
  const int64_t m = options.mixed_negatives;
  const int64_t cols = max_batch_ + m;
  optioned_loss_ = std::make_unique<RetrievalSoftmaxLoss>(max_batch_, cols, max_batch_, 256, workers_);
  columns_.assign(static_cast<size_t>(cols * d), 0.0f);
  dc_columns_.assign(columns_.size(), 0.0f);
  dq_distinct_.assign(static_cast<size_t>(max_batch_ * d), 0.0f);
  queries_.assign(dq_distinct_.size(), 0.0f);
  column_log_weight_.assign(static_cast<size_t>(cols), 0.0f);
  column_correction_.assign(static_cast<size_t>(cols), 0.0f);
  column_item_.assign(static_cast<size_t>(cols), 0);
}

double RetrievalTask::forward_backward(const Batch& batch, const TaskVectors& v,
                                       const int32_t* column_items, int64_t sampled, float scale,
                                       ThreadPool* pool, int64_t& score_rows, int64_t& score_cols) {
  const int64_t n = batch.size;
  if (optioned(batch))
    return optioned_forward_backward(batch, v, column_items, sampled, scale, pool, score_rows,
                                     score_cols);
  // A per-example feature (timestamp) makes a user's vector differ between
  // examples: then the plain softmax needs the full n x n score matrix.
  if (distinct_rows_ && example_ids_.empty()) {
    user_dedup_.assign(batch.users, n);
    item_dedup_.assign(batch.items, n);
    score_rows = user_dedup_.distinct();
    score_cols = item_dedup_.distinct();
    return plain_loss_.forward_backward_distinct(v.u, v.m, n, v.dim, scale, v.du, v.dm, user_dedup_,
                                                 item_dedup_, pool);
  }
  score_rows = score_cols = n;
  return plain_loss_.forward_backward(v.u, v.m, n, v.dim, scale, v.du, v.dm, pool);
}

double RetrievalTask::optioned_forward_backward(const Batch& batch, const TaskVectors& v,
                                                const int32_t* column_items, int64_t sampled,
                                                float scale, ThreadPool* pool, int64_t& score_rows,
                                                int64_t& score_cols) {
  if (!optioned_loss_) configure(options_, item_log_probability_, negative_pool_);
  const int64_t n = batch.size;
  const int64_t d = v.dim;
  const RetrievalLossOptions& opt = options_;
  const float* ret_u = v.u;
  const float* ret_m = v.m;
  // Queries are the distinct users, unless a per-example feature makes each
  // example's user vector its own.
  RowDedup& queries = example_ids_.empty() ? user_dedup_ : example_dedup_;
  queries.assign(example_ids_.empty() ? batch.users : example_ids_.data(), n);
  item_dedup_.assign(batch.items, n);
  const int64_t nq = queries.distinct(), nv = item_dedup_.distinct();
  const int64_t m = sampled;
  // Distinct queries and the batch's distinct items as columns, then the
  // sampled negatives (uniform over the pool with replacement; their
  // retrieval vectors follow the batch's in v.m).
  for (int64_t u = 0; u < nq; ++u)
    std::copy_n(ret_u + static_cast<int64_t>(queries.first()[u]) * d, d, queries_.data() + u * d);
  for (int64_t c = 0; c < nv; ++c) {
    const int32_t first = item_dedup_.first()[c];
    std::copy_n(ret_m + static_cast<int64_t>(first) * d, d, columns_.data() + c * d);
    column_item_[static_cast<size_t>(c)] = batch.items[first];
    column_log_weight_[static_cast<size_t>(c)] = std::log(item_dedup_.counts()[static_cast<size_t>(c)]);
  }
  const uint64_t pool_size = negative_pool_.size();
  for (int64_t t = 0; t < m; ++t) {
    std::copy_n(ret_m + (n + t) * d, d, columns_.data() + (nv + t) * d);
    column_item_[static_cast<size_t>(nv + t)] = column_items[n + t];
    column_log_weight_[static_cast<size_t>(nv + t)] = 0.0f;
  }
  const int64_t nc = nv + m;
  if (opt.logq_correction) {
    // log of the expected count of the item among the columns under the
    // sampler that put it there: n p(item) for the batch's, m / |pool| for
    // the uniformly sampled ones.
    const double log_n = std::log(static_cast<double>(n));
    for (int64_t c = 0; c < nv; ++c) {
      column_correction_[static_cast<size_t>(c)] = static_cast<float>(
          log_n + item_log_probability_[static_cast<size_t>(column_item_[static_cast<size_t>(c)])]);
    }
    const float uniform = m > 0 ? static_cast<float>(std::log(static_cast<double>(m) /
                                                             static_cast<double>(pool_size)))
                                : 0.0f;
    for (int64_t t = 0; t < m; ++t) column_correction_[static_cast<size_t>(nv + t)] = uniform;
  }
  RetrievalProblem prob;
  prob.queries = queries_.data();
  prob.columns = columns_.data();
  prob.num_queries = nq;
  prob.num_columns = nc;
  prob.d = d;
  prob.num_examples = n;
  prob.example_query = queries.index().data();
  prob.example_positive = item_dedup_.index().data();
  prob.example_weight = batch.weights;
  prob.column_log_weight = column_log_weight_.data();
  prob.column_correction = opt.logq_correction ? column_correction_.data() : nullptr;
  prob.column_item = column_item_.data();
  const double loss =
      optioned_loss_->forward_backward(prob, opt, scale, dq_distinct_.data(), dc_columns_.data(), pool);
  // Gradients onto the first example of each distinct row, and the sampled
  // negatives' after the examples'.
  add_to_first_examples(queries, dq_distinct_.data(), d, v.du);
  add_to_first_examples(item_dedup_, dc_columns_.data(), d, v.dm);
  std::copy_n(dc_columns_.data() + nv * d, m * d, v.dm + n * d);
  score_rows = nq;
  score_cols = nc;
  return loss;
}

}  // namespace tandem
