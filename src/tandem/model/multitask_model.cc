#include "tandem/model/multitask_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "tandem/core/error.h"
#include "tandem/model/mse_loss.h"

namespace tandem {

namespace {
// Towers alone and experts alone share streams 4 and 5 (they were never
// combined when those seeds were chosen, and models keep their seeds); towers
// under experts take 6 and 7.
constexpr uint64_t kUserStream = 1, kItemStream = 2, kHeadStream = 3, kUserMoeStream = 4,
                   kItemMoeStream = 5, kUserTowerStream = 4, kItemTowerStream = 5,
                   kUserTowerUnderExpertsStream = 6, kItemTowerUnderExpertsStream = 7;

// a * b + c, or INT64_MAX when that overflows (sizes are never negative).
int64_t saturating_mul_add(int64_t a, int64_t b, int64_t c) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r) || __builtin_add_overflow(r, c, &r))
    return std::numeric_limits<int64_t>::max();
  return r;
}
}  // namespace

namespace {
// Width of each task's user (item) vector: the embedding with a shared
// bottom, the towers' output with side-feature towers, an expert's output
// with experts (over the towers' outputs when there are both).
int64_t task_dim_of(const ModelShape& shape) {
  if (shape.multitask.has_experts()) return shape.multitask.expert_dim;
  return output_dim(shape);
}
}  // namespace

int64_t output_dim(const ModelShape& shape) {
  return shape.has_towers() ? tower_output_dim(shape.user_tower, shape.dim) : shape.dim;
}

int64_t parameter_count(const ModelShape& shape) {
  int64_t n = saturating_mul_add(shape.user_rows, shape.dim, 0);
  n = saturating_mul_add(shape.item_rows, shape.dim, n);
  if (shape.has_towers()) {
    n = saturating_mul_add(1, tower_parameter_count(shape.user_tower, shape.dim), n);
    n = saturating_mul_add(1, tower_parameter_count(shape.item_tower, shape.dim), n);
  }
  // The head as Mlp lays it out: per layer a [width, units] kernel and a
  // [units] bias, from the concatenated task vectors to one output.
  int64_t width = 2 * task_dim_of(shape);
  for (size_t i = 0; i <= shape.hidden.size(); ++i) {
    const int64_t units = i == shape.hidden.size() ? 1 : shape.hidden[i];
    n = saturating_mul_add(width, units, saturating_mul_add(units, 1, n));
    width = units;
  }
  if (shape.multitask.has_experts()) {
    const int64_t tower = moe_parameter_count(output_dim(shape), shape.multitask.moe_layout());
    n = saturating_mul_add(tower, 2, n);
  }
  if (shape.multitask.weighting == TaskWeighting::kUncertainty) n = saturating_mul_add(1, 2, n);
  return n;
}

MultiTaskModel::MultiTaskModel(const ModelShape& shape, int64_t max_batch, int workers,
                               int64_t sampled_items)
    : shape_(shape),
      out_dim_(tandem::output_dim(shape)),
      max_batch_(max_batch),
      workers_(workers),
      sampled_items_(sampled_items),
      users_(shape.user_rows, shape.dim),
      items_(shape.item_rows, shape.dim),
      head_(2 * task_dim_of(shape), shape.hidden, 1, max_batch),
      retrieval_loss_(max_batch, 256, workers),
      user_emb_(static_cast<size_t>(max_batch * std::max(shape.dim, out_dim_))),
      item_emb_(static_cast<size_t>((max_batch + sampled_items) * std::max(shape.dim, out_dim_))),
      user_dgrad_(user_emb_.size()),
      item_dgrad_(item_emb_.size()),
      head_grads_(static_cast<size_t>(workers)),
      worker_mse_(static_cast<size_t>(workers), 0.0),
      user_grad_(shape.user_rows, shape.dim, max_batch),
      item_grad_(shape.item_rows, shape.dim, max_batch),
      user_dedup_(shape.user_rows, max_batch),
      item_dedup_(shape.item_rows, max_batch),
      ranking_loss_(max_batch) {
  TANDEM_CHECK(workers >= 1, "worker count must be positive, got " << workers);
  TANDEM_CHECK(sampled_items >= 0 && sampled_items <= (int64_t{1} << 24),
               "sampled items must be in 0..16777216, got " << sampled_items);
  for (auto& g : head_grads_) g.assign(static_cast<size_t>(head_.parameter_count()), 0.0f);
  if (shape.has_towers()) {
    const int64_t item_out = tower_output_dim(shape.item_tower, shape.dim);
    TANDEM_CHECK(out_dim_ == item_out,
                 "the user tower's output (" << out_dim_ << " wide) and the item tower's ("
                     << item_out << ") must have the same width, since retrieval scores their "
                        "dot product: without tower layers, give both sides features of equal "
                        "total width, or set tower_layers");
    user_tower_ = std::make_unique<FeatureTower>("user", shape.user_tower, &users_, &user_grad_, max_batch);
    item_tower_ = std::make_unique<FeatureTower>("item", shape.item_tower, &items_, &item_grad_,
                                                 max_batch + sampled_items);
    if (has_per_example_feature()) {
      example_dedup_ = RowDedup(max_batch, max_batch);
      example_ids_.resize(static_cast<size_t>(max_batch));
      for (int64_t i = 0; i < max_batch; ++i) example_ids_[static_cast<size_t>(i)] = static_cast<int32_t>(i);
    }
  }
  if (shape.multitask.has_experts()) {
    shape.multitask.validate();
    const MoeLayout layout = shape.multitask.moe_layout();
    // Over the towers' outputs when there are towers, else the embedding rows.
    user_moe_ = std::make_unique<MixtureOfExperts>(out_dim_, layout, max_batch);
    item_moe_ = std::make_unique<MixtureOfExperts>(out_dim_, layout, max_batch + sampled_items);
  }
  if (shape.multitask.weighting == TaskWeighting::kUncertainty)
    uncertainty_ = std::make_unique<UncertaintyWeighting>();
}

void MultiTaskModel::init(uint64_t seed) {
  Rng user_rng(derive_seed(seed, kUserStream));
  users_.init_uniform(user_rng);
  Rng item_rng(derive_seed(seed, kItemStream));
  items_.init_uniform(item_rng);
  Rng head_rng(derive_seed(seed, kHeadStream));
  head_.init_glorot(head_rng);
  if (user_moe_) {
    Rng user_moe_rng(derive_seed(seed, kUserMoeStream));
    user_moe_->init_glorot(user_moe_rng);
    Rng item_moe_rng(derive_seed(seed, kItemMoeStream));
    item_moe_->init_glorot(item_moe_rng);
  }
  if (user_tower_) {
    const bool under_experts = user_moe_ != nullptr;
    Rng user_tower_rng(derive_seed(seed, under_experts ? kUserTowerUnderExpertsStream : kUserTowerStream));
    user_tower_->init(user_tower_rng);
    Rng item_tower_rng(derive_seed(seed, under_experts ? kItemTowerUnderExpertsStream : kItemTowerStream));
    item_tower_->init(item_tower_rng);
  }
  if (uncertainty_) uncertainty_->init();
}

StepLosses MultiTaskModel::compute_gradients(const Batch& batch, const TaskWeights& fixed,
                                             ThreadPool* pool) {
  const int64_t n = batch.size;
  // Width of the rows gathered (or of the towers' outputs).
  const int64_t d = out_dim_;
  TANDEM_CHECK(n > 0 && n <= max_batch_,
               "batch of " << n << " examples; this model was built for 1.." << max_batch_);
  const int workers = pool ? pool->size() : 1;
  TANDEM_CHECK(workers <= workers_,
               "model built for " << workers_ << " workers, run with " << workers);
  // Which tasks run is the fixed weights' decision; how much each one's
  // gradient counts may be learned (w_t exp(-s_t)).
  const bool ranking = fixed.ranking != 0.0f;
  const TaskWeights w = uncertainty_ ? uncertainty_->effective_weights(fixed) : fixed;
  const bool experts = user_moe_ != nullptr;
  const bool towers = user_tower_ != nullptr;
  // Examples with weights, or any retrieval option, take the optioned
  // softmax; the plain one stays the tutorials' fast path.
  const bool optioned =
      fixed.retrieval != 0.0f && (retrieval_options_.any() || batch.weights != nullptr);
  // Mixed negatives are item rows like the batch's: they pass through the
  // item side's towers and experts too, after the batch's rows (rows n..n+m
  // of item_emb_ and of its gradient), and only retrieval reads them.
  const int64_t sampled = optioned ? retrieval_options_.mixed_negatives : 0;
  if (sampled > 0) sample_negatives(batch, sampled);
  const int64_t item_n = n + sampled;
  const int32_t* item_rows = sampled > 0 ? grad_items_.data() : batch.items;
  // The towers run over the whole batch (one GEMM per MLP layer); their
  // outputs are then the task vectors (or the experts' inputs), as the
  // embedding rows are without.
  if (towers) {
    user_tower_->forward(batch.users, batch.timestamps, n, user_emb_.data());
    item_tower_->forward(item_rows, nullptr, item_n, item_emb_.data());
  } else if (sampled > 0) {
    items_.gather(item_rows + n, sampled, item_emb_.data() + n * d);
  }
  auto run = [&](const auto& f) {
    if (pool) {
      pool->run(f);
    } else {
      f(0);
    }
  };

  // MSE's gradient needs only the global n, not other rows: each worker runs
  // its slice's head forward, loss and backward in one pass. The other
  // ranking losses couple examples of one user wherever they lie in the
  // batch: every slice's forward first, the loss once over the whole batch,
  // then every slice's backward.
  const bool batch_loss = ranking && ranking_spec_.kind != RankingLossKind::kMse;
  // The head's backward on rows r, writing dL/du, dL/dm ([n, td]) there.
  auto head_backward = [&](int worker, const Range& r, float* du, float* dm, int64_t td) {
    const auto row_bytes = static_cast<size_t>(td) * sizeof(float);
    head_.bprop_rows(r.begin, r.end, head_grads_[static_cast<size_t>(worker)].data());
    const float* dx = head_.input_grad();
    for (int64_t i = r.begin; i < r.end; ++i) {
      std::memcpy(du + i * td, dx + i * 2 * td, row_bytes);
      std::memcpy(dm + i * td, dx + i * 2 * td + td, row_bytes);
    }
  };
  // The rating head on one worker's rows of the ranking vectors u, m
  // ([n, td]): forward, and under MSE the loss and the backward.
  auto rank_slice = [&](int worker, const float* u, const float* m, float* du, float* dm,
                        int64_t td) {
    const Range r = split_range(n, workers, worker);
    if (r.size() == 0) {
      std::fill(head_grads_[static_cast<size_t>(worker)].begin(),
                head_grads_[static_cast<size_t>(worker)].end(), 0.0f);
      worker_mse_[static_cast<size_t>(worker)] = 0.0;
      return;
    }
    const auto row_bytes = static_cast<size_t>(td) * sizeof(float);
    float* x = head_.input();
    for (int64_t i = r.begin; i < r.end; ++i) {
      std::memcpy(x + i * 2 * td, u + i * td, row_bytes);
      std::memcpy(x + i * 2 * td + td, m + i * td, row_bytes);
    }
    head_.fprop_rows(r.begin, r.end);
    if (batch_loss) return;
    worker_mse_[static_cast<size_t>(worker)] =
        batch.weights ? MseLoss::weighted_slice_sum_and_backward(
                            head_.output() + r.begin, batch.labels + r.begin,
                            batch.weights + r.begin, r.size(), n, w.ranking,
                            head_.output_grad() + r.begin)
                      : MseLoss::slice_sum_and_backward(head_.output() + r.begin,
                                                        batch.labels + r.begin, r.size(), n,
                                                        w.ranking, head_.output_grad() + r.begin);
    head_backward(worker, r, du, dm, td);
  };

  // Per worker, on its own rows: gather the tower inputs; with a shared
  // bottom they are the task vectors, so the rating head runs right away.
  run([&](int worker) {
    const Range r = split_range(n, workers, worker);
    if (r.size() > 0 && !towers) {
      users_.gather(batch.users + r.begin, r.size(), user_emb_.data() + r.begin * d);
      items_.gather(batch.items + r.begin, r.size(), item_emb_.data() + r.begin * d);
    }
    if (experts) return;  // the towers' expert layers run over the whole batch below
    if (ranking) {
      rank_slice(worker, user_emb_.data(), item_emb_.data(), user_dgrad_.data(),
                 item_dgrad_.data(), d);
    } else {
      worker_mse_[static_cast<size_t>(worker)] = 0.0;
      std::fill_n(user_dgrad_.data() + r.begin * d, r.size() * d, 0.0f);
      std::fill_n(item_dgrad_.data() + r.begin * d, r.size() * d, 0.0f);
    }
  });

  // Retrieval's vectors and where their gradients go: the embedding rows with
  // a shared bottom (adding onto the ranking gradients), else each tower's
  // retrieval output.
  const float* ret_u = user_emb_.data();
  const float* ret_m = item_emb_.data();
  float* ret_du = user_dgrad_.data();
  float* ret_dm = item_dgrad_.data();
  int64_t td = d;
  if (experts) {
    // One GEMM per part over the whole batch (the BLAS): deterministic for
    // any worker count.
    td = shape_.multitask.expert_dim;
    user_moe_->forward(user_emb_.data(), n);
    item_moe_->forward(item_emb_.data(), item_n);
    const int rank = static_cast<int>(Task::kRanking), ret = static_cast<int>(Task::kRetrieval);
    if (ranking) {
      run([&](int worker) {
        rank_slice(worker, user_moe_->output(rank), item_moe_->output(rank),
                   user_moe_->output_grad(rank), item_moe_->output_grad(rank), td);
      });
    } else {
      std::fill_n(user_moe_->output_grad(rank), n * td, 0.0f);
      std::fill_n(item_moe_->output_grad(rank), n * td, 0.0f);
    }
    // The sampled negatives get no ranking gradient.
    std::fill_n(item_moe_->output_grad(rank) + n * td, sampled * td, 0.0f);
    ret_u = user_moe_->output(ret);
    ret_m = item_moe_->output(ret);
    ret_du = user_moe_->output_grad(ret);
    ret_dm = item_moe_->output_grad(ret);
    std::fill_n(ret_du, n * td, 0.0f);
    std::fill_n(ret_dm, item_n * td, 0.0f);
  }

  double batch_ranking_loss = 0.0;
  if (batch_loss) {
    const int rank = static_cast<int>(Task::kRanking);
    float* du = experts ? user_moe_->output_grad(rank) : user_dgrad_.data();
    float* dm = experts ? item_moe_->output_grad(rank) : item_dgrad_.data();
    const int64_t rank_dim = experts ? td : d;
    batch_ranking_loss = ranking_loss_.forward_backward(ranking_spec_, head_.output(), batch.labels,
                                                        batch.users, batch.weights, n, w.ranking,
                                                        head_.output_grad());
    run([&](int worker) {
      const Range r = split_range(n, workers, worker);
      // An empty slice zeroed its gradients in rank_slice.
      if (r.size() > 0) head_backward(worker, r, du, dm, rank_dim);
    });
  }

  StepLosses losses;
  if (ranking) {
    if (batch_loss) {
      losses.ranking = batch_ranking_loss;
    } else {
      double sq = 0.0;
      for (int k = 0; k < workers; ++k) sq += worker_mse_[static_cast<size_t>(k)];
      losses.ranking = sq / static_cast<double>(n);
    }
    head_.sum_gradients(head_grads_, workers);
  } else if (towers) {
    // The tower MLPs make the trainer step dense parameters even without
    // ranking (it skips the head then): zeros, not stale values, in the
    // head's gradients keep dense_parameters() a true gradient.
    for (auto& p : head_.parameters()) std::fill_n(p.grad, p.size, 0.0f);
  }
  // A per-example feature (timestamp) makes a user's vector differ between
  // examples: then the plain softmax needs the full n x n score matrix and
  // the optioned one takes every example as its own query.
  const bool per_example = towers && has_per_example_feature();
  if (optioned) {
    losses.retrieval =
        optioned_retrieval(batch, w.retrieval, pool, losses, ret_u, ret_m, ret_du, ret_dm, td);
  } else if (fixed.retrieval != 0.0f) {
    if (distinct_rows_ && !per_example) {
      user_dedup_.assign(batch.users, n);
      item_dedup_.assign(batch.items, n);
      losses.retrieval = retrieval_loss_.forward_backward_distinct(
          ret_u, ret_m, n, td, w.retrieval, ret_du, ret_dm, user_dedup_, item_dedup_, pool);
      losses.score_rows = user_dedup_.distinct();
      losses.score_cols = item_dedup_.distinct();
    } else {
      losses.retrieval =
          retrieval_loss_.forward_backward(ret_u, ret_m, n, td, w.retrieval, ret_du, ret_dm, pool);
      losses.score_rows = losses.score_cols = n;
    }
  }
  if (experts) {
    user_moe_->backward(user_emb_.data(), n, user_dgrad_.data());
    item_moe_->backward(item_emb_.data(), item_n, item_dgrad_.data());
  }
  if (uncertainty_) {
    losses.total = uncertainty_->finish(fixed, losses.retrieval, losses.ranking);
  } else {
    losses.total = static_cast<double>(w.retrieval) * losses.retrieval +
                   static_cast<double>(w.ranking) * losses.ranking;
  }
  if (towers) {
    // Through the towers' MLPs into the id and every feature table, for the
    // batch's items and the sampled ones alike.
    user_tower_->backward(user_dgrad_.data(), n);
    item_tower_->backward(item_dgrad_.data(), item_n);
    return losses;
  }
  user_grad_.assign(batch.users, user_dgrad_.data(), n);
  // The sampled negatives' rows follow the batch's, as in item_dgrad_.
  item_grad_.assign(item_rows, item_dgrad_.data(), item_n);
  return losses;
}

void MultiTaskModel::sample_negatives(const Batch& batch, int64_t m) {
  if (!optioned_loss_) configure_retrieval(retrieval_options_, item_log_probability_, negative_pool_);
  const int64_t n = batch.size;
  std::copy_n(batch.items, n, grad_items_.data());
  Rng rng(batch.sample_seed);
  const uint64_t pool_size = negative_pool_.size();
  for (int64_t t = 0; t < m; ++t)
    grad_items_[static_cast<size_t>(n + t)] = negative_pool_[static_cast<size_t>(rng.below(pool_size))];
}

void MultiTaskModel::configure_retrieval(const RetrievalLossOptions& options,
                                         std::vector<float> item_log_probability,
                                         std::vector<int32_t> negative_pool) {
  TANDEM_CHECK(options.temperature > 0.0f && std::isfinite(options.temperature),
               "retrieval temperature must be positive, got " << options.temperature);
  TANDEM_CHECK(options.hard_negatives >= 0 && options.mixed_negatives >= 0,
               "hard and mixed negative counts must be >= 0");
  TANDEM_CHECK(options.mixed_negatives <= (int64_t{1} << 24),
               "mixed_negatives " << options.mixed_negatives << " is absurd (at most 16777216)");
  TANDEM_CHECK(!options.logq_correction ||
                   static_cast<int64_t>(item_log_probability.size()) == shape_.item_rows,
               "the logQ correction needs one log-probability per item row ("
                   << shape_.item_rows << "), got " << item_log_probability.size());
  TANDEM_CHECK(options.mixed_negatives == 0 || !negative_pool.empty(),
               "mixed negatives need a non-empty pool of items to sample from");
  for (int32_t r : negative_pool) {
    TANDEM_CHECK(r >= 0 && r < shape_.item_rows,
                 "negative pool holds row " << r << " outside the item table (" << shape_.item_rows
                                            << " rows)");
  }
  retrieval_options_ = options;
  item_log_probability_ = std::move(item_log_probability);
  negative_pool_ = std::move(negative_pool);
  // The towers' and experts' workspace was sized at construction.
  TANDEM_CHECK(options.mixed_negatives <= sampled_items_ || (user_moe_ == nullptr && item_tower_ == nullptr),
               "mixed_negatives " << options.mixed_negatives << " exceeds the "
                                  << sampled_items_
                                  << " sampled items this model's item towers and experts were "
                                     "built for (MultiTaskModel's sampled_items)");
  const int64_t d = std::max(shape_.dim, task_dim());
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
  grad_items_.assign(static_cast<size_t>(cols), 0);
  const auto item_floats = static_cast<size_t>(cols * std::max(shape_.dim, out_dim_));
  if (item_emb_.size() < item_floats) item_emb_.resize(item_floats);  // a shared bottom's gather
  item_dgrad_.resize(item_emb_.size());
  item_grad_ = RowGradient(shape_.item_rows, shape_.dim, cols);
}

double MultiTaskModel::optioned_retrieval(const Batch& batch, float scale, ThreadPool* pool,
                                          StepLosses& losses, const float* ret_u,
                                          const float* ret_m, float* ret_du, float* ret_dm,
                                          int64_t d) {
  if (!optioned_loss_) configure_retrieval(retrieval_options_, item_log_probability_, negative_pool_);
  const int64_t n = batch.size;
  const RetrievalLossOptions& opt = retrieval_options_;
  // Queries are the distinct users, unless a per-example feature makes each
  // example's user vector its own.
  RowDedup& queries = example_ids_.empty() ? user_dedup_ : example_dedup_;
  queries.assign(example_ids_.empty() ? batch.users : example_ids_.data(), n);
  item_dedup_.assign(batch.items, n);
  const int64_t nq = queries.distinct(), nv = item_dedup_.distinct();
  const int64_t m = opt.mixed_negatives;
  // Distinct queries and the batch's distinct items as columns, then the
  // sampled negatives (sample_negatives drew them, uniform over the pool with
  // replacement; their retrieval vectors follow the batch's in ret_m).
  for (int64_t u = 0; u < nq; ++u)
    std::copy_n(ret_u + static_cast<int64_t>(queries.first()[u]) * d, d, queries_.data() + u * d);
  for (int64_t v = 0; v < nv; ++v) {
    const int32_t first = item_dedup_.first()[v];
    std::copy_n(ret_m + static_cast<int64_t>(first) * d, d, columns_.data() + v * d);
    column_item_[static_cast<size_t>(v)] = batch.items[first];
    column_log_weight_[static_cast<size_t>(v)] = std::log(item_dedup_.counts()[static_cast<size_t>(v)]);
  }
  const uint64_t pool_size = negative_pool_.size();
  for (int64_t t = 0; t < m; ++t) {
    std::copy_n(ret_m + (n + t) * d, d, columns_.data() + (nv + t) * d);
    column_item_[static_cast<size_t>(nv + t)] = grad_items_[static_cast<size_t>(n + t)];
    column_log_weight_[static_cast<size_t>(nv + t)] = 0.0f;
  }
  const int64_t nc = nv + m;
  if (opt.logq_correction) {
    // log of the expected count of the item among the columns under the
    // sampler that put it there: n p(item) for the batch's, m / |pool| for
    // the uniformly sampled ones.
    const double log_n = std::log(static_cast<double>(n));
    for (int64_t v = 0; v < nv; ++v) {
      column_correction_[static_cast<size_t>(v)] = static_cast<float>(
          log_n + item_log_probability_[static_cast<size_t>(column_item_[static_cast<size_t>(v)])]);
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
  add_to_first_examples(queries, dq_distinct_.data(), d, ret_du);
  add_to_first_examples(item_dedup_, dc_columns_.data(), d, ret_dm);
  std::copy_n(dc_columns_.data() + nv * d, m * d, ret_dm + n * d);
  losses.score_rows = nq;
  losses.score_cols = nc;
  return loss;
}


// Names are part of the model and checkpoint files: never rename one.
std::vector<ParameterRef> MultiTaskModel::dense_parameters() {
  std::vector<ParameterRef> p = head_.parameters();
  if (user_moe_) {
    for (auto& r : user_moe_->parameters("user_moe")) p.push_back(r);
    for (auto& r : item_moe_->parameters("item_moe")) p.push_back(r);
  }
  for (FeatureTower* t : {user_tower_.get(), item_tower_.get()})
    if (t) for (auto& r : t->dense_parameters()) p.push_back(r);
  if (uncertainty_) p.push_back(uncertainty_->parameter());
  return p;
}

std::vector<ParameterView> MultiTaskModel::dense_parameter_values() const {
  std::vector<ParameterView> p = head_.parameter_values();
  if (user_moe_) {
    for (auto& v : user_moe_->parameter_values("user_moe")) p.push_back(v);
    for (auto& v : item_moe_->parameter_values("item_moe")) p.push_back(v);
  }
  for (const FeatureTower* t : {user_tower_.get(), item_tower_.get()})
    if (t) for (auto& v : t->dense_parameter_values()) p.push_back(v);
  if (uncertainty_) p.push_back(uncertainty_->parameter_value());
  return p;
}

bool MultiTaskModel::retrieval_trains_dense() const {
  if (user_moe_ != nullptr || uncertainty_ != nullptr) return true;
  for (const FeatureTower* t : {user_tower_.get(), item_tower_.get()})
    if (t && !t->dense_parameter_values().empty()) return true;
  return false;
}

bool MultiTaskModel::has_per_example_feature() const {
  return std::any_of(shape_.user_tower.features.begin(), shape_.user_tower.features.end(),
                     [](const TowerFeature& f) { return f.per_example; });
}

std::vector<double> MultiTaskModel::learned_task_weights() const {
  if (!uncertainty_) return {};
  return {uncertainty_->learned_weight(UncertaintyWeighting::kRetrieval),
          uncertainty_->learned_weight(UncertaintyWeighting::kRanking)};
}

int64_t MultiTaskModel::task_dim() const { return task_dim_of(shape_); }

namespace {
// Rows per block when a tower's expert layer runs for inference, so that its
// scratch stays bounded for any catalogue.
constexpr int64_t kVectorBlock = 4096;

// Task t's vectors of n rows: the embedding rows, or the side-feature
// tower's outputs, and with experts the task's mixture over those.
void tower_vectors(const EmbeddingTable& table, const FeatureTower* tower,
                   const MixtureOfExperts* moe, Task t, const int32_t* rows,
                   const int64_t* timestamps, int64_t n, float* out, std::vector<float>& scratch) {
  const auto source = [&](const int32_t* r, const int64_t* ts, int64_t m, float* dst) {
    if (tower != nullptr) {
      tower->compute(r, ts, m, dst);
    } else {
      table.gather(r, m, dst);
    }
  };
  if (moe == nullptr) {
    source(rows, timestamps, n, out);
    return;
  }
  const int64_t d = tower != nullptr ? tower->output_dim() : table.dim;
  const int64_t td = moe->layout().expert_dim;
  const int64_t block = std::min(n, kVectorBlock);
  const auto need = static_cast<size_t>(block * d + moe->predict_scratch_floats(block));
  if (scratch.size() < need) scratch.resize(need);
  for (int64_t s = 0; s < n; s += block) {
    const int64_t m = std::min(block, n - s);
    source(rows + s, timestamps ? timestamps + s : nullptr, m, scratch.data());
    moe->predict(static_cast<int>(t), scratch.data(), m, out + s * td, scratch.data() + block * d);
  }
}
}  // namespace

void MultiTaskModel::user_vectors(Task t, const int32_t* rows, int64_t n, float* out,
                                  std::vector<float>& scratch, const int64_t* timestamps) const {
  tower_vectors(users_, user_tower_.get(), user_moe_.get(), t, rows, timestamps, n, out, scratch);
}

void MultiTaskModel::described_user_vector(Task t, const DescribedEntity& user, float* out,
                                           std::vector<float>& scratch) const {
  TANDEM_CHECK(user_tower_ != nullptr, "describing a user by its features needs side-feature towers");
  if (!user_moe_) {
    user_tower_->compute_described(user, out);
    return;
  }
  const int64_t d = user_tower_->output_dim();
  const auto need = static_cast<size_t>(d + user_moe_->predict_scratch_floats(1));
  if (scratch.size() < need) scratch.resize(need);
  user_tower_->compute_described(user, scratch.data());
  user_moe_->predict(static_cast<int>(t), scratch.data(), 1, out, scratch.data() + d);
}

void MultiTaskModel::item_vectors(Task t, const int32_t* rows, int64_t n, float* out,
                                  std::vector<float>& scratch) const {
  tower_vectors(items_, item_tower_.get(), item_moe_.get(), t, rows, nullptr, n, out, scratch);
}

void MultiTaskModel::predict_from_vectors(const float* users, const float* items, int64_t n,
                                          float* out, std::vector<float>& scratch) const {
  const int64_t d = task_dim();
  constexpr int64_t kChunk = 1024;
  std::vector<float> x(static_cast<size_t>(std::min(n, kChunk) * 2 * d));
  for (int64_t s = 0; s < n; s += kChunk) {
    const int64_t m = std::min(kChunk, n - s);
    for (int64_t i = 0; i < m; ++i) {
      std::memcpy(x.data() + i * 2 * d, users + (s + i) * d, static_cast<size_t>(d) * 4);
      std::memcpy(x.data() + i * 2 * d + d, items + (s + i) * d, static_cast<size_t>(d) * 4);
    }
    head_.predict(x.data(), m, out + s, scratch);
  }
}

std::vector<SparseParameterRef> MultiTaskModel::sparse_parameters() {
  std::vector<SparseParameterRef> out = {{"user_embedding", &users_, &user_grad_},
                                         {"item_embedding", &items_, &item_grad_}};
  for (FeatureTower* t : {user_tower_.get(), item_tower_.get()})
    if (t) for (auto& p : t->sparse_parameters()) out.push_back(p);
  return out;
}

std::vector<TableView> MultiTaskModel::sparse_parameter_values() const {
  std::vector<TableView> out = {{"user_embedding", &users_}, {"item_embedding", &items_}};
  for (const FeatureTower* t : {user_tower_.get(), item_tower_.get()})
    if (t) for (auto& p : t->sparse_parameter_values()) out.push_back(p);
  return out;
}

void MultiTaskModel::predict_ratings(const int32_t* users, const int32_t* items, int64_t n,
                                     float* out, std::vector<float>& scratch,
                                     const int64_t* timestamps) const {
  const int64_t d = task_dim();
  constexpr int64_t kChunk = 1024;
  std::vector<float> x(static_cast<size_t>(std::min(n, kChunk) * 2 * d));
  if (user_moe_ || user_tower_) {
    // The ranking vectors of each chunk's users and items, then concatenated.
    std::vector<float> u(static_cast<size_t>(std::min(n, kChunk) * d)), v(u.size()), tower;
    for (int64_t s = 0; s < n; s += kChunk) {
      const int64_t m = std::min(kChunk, n - s);
      user_vectors(Task::kRanking, users + s, m, u.data(), tower,
                   timestamps ? timestamps + s : nullptr);
      item_vectors(Task::kRanking, items + s, m, v.data(), tower);
      for (int64_t i = 0; i < m; ++i) {
        std::memcpy(x.data() + i * 2 * d, u.data() + i * d, static_cast<size_t>(d) * 4);
        std::memcpy(x.data() + i * 2 * d + d, v.data() + i * d, static_cast<size_t>(d) * 4);
      }
      head_.predict(x.data(), m, out + s, scratch);
    }
    return;
  }
  for (int64_t s = 0; s < n; s += kChunk) {
    const int64_t m = std::min(kChunk, n - s);
    for (int64_t i = 0; i < m; ++i) {
      std::memcpy(x.data() + i * 2 * d, users_.row(users[s + i]), static_cast<size_t>(d) * 4);
      std::memcpy(x.data() + i * 2 * d + d, items_.row(items[s + i]), static_cast<size_t>(d) * 4);
    }
    head_.predict(x.data(), m, out + s, scratch);
  }
}

}  // namespace tandem
