#include "tandem/model/multitask_model.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "tandem/core/error.h"
#include "tandem/model/mse_loss.h"

namespace tandem {

namespace {
constexpr uint64_t kUserStream = 1, kItemStream = 2, kHeadStream = 3, kUserTowerStream = 4,
                   kItemTowerStream = 5;

// a * b + c, or INT64_MAX when that overflows (sizes are never negative).
int64_t saturating_mul_add(int64_t a, int64_t b, int64_t c) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r) || __builtin_add_overflow(r, c, &r))
    return std::numeric_limits<int64_t>::max();
  return r;
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
  // [units] bias, from the concatenated embeddings to one output.
  int64_t width = 2 * output_dim(shape);
  for (size_t i = 0; i <= shape.hidden.size(); ++i) {
    const int64_t units = i == shape.hidden.size() ? 1 : shape.hidden[i];
    n = saturating_mul_add(width, units, saturating_mul_add(units, 1, n));
    width = units;
  }
  return n;
}

MultiTaskModel::MultiTaskModel(const ModelShape& shape, int64_t max_batch, int workers)
    : shape_(shape),
      out_dim_(tandem::output_dim(shape)),
      max_batch_(max_batch),
      workers_(workers),
      users_(shape.user_rows, shape.dim),
      items_(shape.item_rows, shape.dim),
      head_(2 * out_dim_, shape.hidden, 1, max_batch),
      retrieval_loss_(max_batch, 256, workers),
      user_emb_(static_cast<size_t>(max_batch * out_dim_)),
      item_emb_(user_emb_.size()),
      user_dgrad_(user_emb_.size()),
      item_dgrad_(user_emb_.size()),
      head_grads_(static_cast<size_t>(workers)),
      worker_mse_(static_cast<size_t>(workers), 0.0),
      user_grad_(shape.user_rows, shape.dim, max_batch),
      item_grad_(shape.item_rows, shape.dim, max_batch),
      user_dedup_(shape.user_rows, max_batch),
      item_dedup_(shape.item_rows, max_batch) {
  TANDEM_CHECK(workers >= 1, "worker count must be positive, got " << workers);
  for (auto& g : head_grads_) g.assign(static_cast<size_t>(head_.parameter_count()), 0.0f);
  if (shape.has_towers()) {
    const int64_t item_out = tower_output_dim(shape.item_tower, shape.dim);
    TANDEM_CHECK(out_dim_ == item_out,
                 "the user tower's output (" << out_dim_ << " wide) and the item tower's ("
                     << item_out << ") must have the same width, since retrieval scores their "
                        "dot product: without tower layers, give both sides features of equal "
                        "total width, or set tower_layers");
    user_tower_ = std::make_unique<FeatureTower>("user", shape.user_tower, &users_, &user_grad_, max_batch);
    item_tower_ = std::make_unique<FeatureTower>("item", shape.item_tower, &items_, &item_grad_, max_batch);
  }
}

void MultiTaskModel::init(uint64_t seed) {
  Rng user_rng(derive_seed(seed, kUserStream));
  users_.init_uniform(user_rng);
  Rng item_rng(derive_seed(seed, kItemStream));
  items_.init_uniform(item_rng);
  Rng head_rng(derive_seed(seed, kHeadStream));
  head_.init_glorot(head_rng);
  if (user_tower_) {
    Rng user_tower_rng(derive_seed(seed, kUserTowerStream));
    user_tower_->init(user_tower_rng);
    Rng item_tower_rng(derive_seed(seed, kItemTowerStream));
    item_tower_->init(item_tower_rng);
  }
}

StepLosses MultiTaskModel::compute_gradients(const Batch& batch, const TaskWeights& w,
                                             ThreadPool* pool) {
  const int64_t n = batch.size;
  const int64_t d = out_dim_;
  TANDEM_CHECK(n > 0 && n <= max_batch_,
               "batch of " << n << " examples; this model was built for 1.." << max_batch_);
  const int workers = pool ? pool->size() : 1;
  TANDEM_CHECK(workers <= workers_,
               "model built for " << workers_ << " workers, run with " << workers);
  const bool ranking = w.ranking != 0.0f;
  const bool towers = user_tower_ != nullptr;
  if (towers) {
    user_tower_->forward(batch.users, batch.timestamps, n, user_emb_.data());
    item_tower_->forward(batch.items, nullptr, n, item_emb_.data());
  }

  // Per worker, on its own rows: gather, then the whole rating head forward
  // and backward. The MSE gradient needs only the global n, not other rows.
  auto slice = [&](int worker) {
    const Range r = split_range(n, workers, worker);
    if (r.size() == 0) {
      if (ranking) std::fill(head_grads_[static_cast<size_t>(worker)].begin(),
                             head_grads_[static_cast<size_t>(worker)].end(), 0.0f);
      worker_mse_[static_cast<size_t>(worker)] = 0.0;
      return;
    }
    if (!towers) {
      users_.gather(batch.users + r.begin, r.size(), user_emb_.data() + r.begin * d);
      items_.gather(batch.items + r.begin, r.size(), item_emb_.data() + r.begin * d);
    }
    float* gu = user_dgrad_.data() + r.begin * d;
    float* gm = item_dgrad_.data() + r.begin * d;
    if (!ranking) {
      std::fill_n(gu, r.size() * d, 0.0f);
      std::fill_n(gm, r.size() * d, 0.0f);
      return;
    }
    float* x = head_.input();
    for (int64_t i = r.begin; i < r.end; ++i) {
      std::memcpy(x + i * 2 * d, user_emb_.data() + i * d, static_cast<size_t>(d) * sizeof(float));
      std::memcpy(x + i * 2 * d + d, item_emb_.data() + i * d,
                  static_cast<size_t>(d) * sizeof(float));
    }
    head_.fprop_rows(r.begin, r.end);
    worker_mse_[static_cast<size_t>(worker)] = MseLoss::slice_sum_and_backward(
        head_.output() + r.begin, batch.labels + r.begin, r.size(), n, w.ranking,
        head_.output_grad() + r.begin);
    head_.bprop_rows(r.begin, r.end, head_grads_[static_cast<size_t>(worker)].data());
    const float* dx = head_.input_grad();
    for (int64_t i = r.begin; i < r.end; ++i) {
      std::memcpy(user_dgrad_.data() + i * d, dx + i * 2 * d, static_cast<size_t>(d) * sizeof(float));
      std::memcpy(item_dgrad_.data() + i * d, dx + i * 2 * d + d,
                  static_cast<size_t>(d) * sizeof(float));
    }
  };
  if (pool) {
    pool->run(slice);
  } else {
    slice(0);
  }

  StepLosses losses;
  if (ranking) {
    double sq = 0.0;
    for (int k = 0; k < workers; ++k) sq += worker_mse_[static_cast<size_t>(k)];
    losses.ranking = sq / static_cast<double>(n);
    head_.sum_gradients(head_grads_, workers);
  } else if (towers) {
    // The tower MLPs make the trainer step dense parameters even without
    // ranking: the head's must then hold zeros, not stale gradients.
    for (auto& p : head_.parameters()) std::fill_n(p.grad, p.size, 0.0f);
  }
  if (w.retrieval != 0.0f) {
    // A per-example feature (timestamp) makes a user's rows differ between
    // examples: then only the full score matrix is exact.
    const bool per_example = towers && std::any_of(shape_.user_tower.features.begin(),
                                                   shape_.user_tower.features.end(),
                                                   [](const TowerFeature& f) { return f.per_example; });
    if (distinct_rows_ && !per_example) {
      user_dedup_.assign(batch.users, n);
      item_dedup_.assign(batch.items, n);
      losses.retrieval = retrieval_loss_.forward_backward_distinct(
          user_emb_.data(), item_emb_.data(), n, d, w.retrieval, user_dgrad_.data(),
          item_dgrad_.data(), user_dedup_, item_dedup_, pool);
      losses.score_rows = user_dedup_.distinct();
      losses.score_cols = item_dedup_.distinct();
    } else {
      losses.retrieval = retrieval_loss_.forward_backward(user_emb_.data(), item_emb_.data(), n, d,
                                                          w.retrieval, user_dgrad_.data(),
                                                          item_dgrad_.data(), pool);
      losses.score_rows = losses.score_cols = n;
    }
  }
  losses.total = static_cast<double>(w.retrieval) * losses.retrieval +
                 static_cast<double>(w.ranking) * losses.ranking;
  if (towers) {
    user_tower_->backward(user_dgrad_.data(), n);
    item_tower_->backward(item_dgrad_.data(), n);
  } else {
    user_grad_.assign(batch.users, user_dgrad_.data(), n);
    item_grad_.assign(batch.items, item_dgrad_.data(), n);
  }
  return losses;
}

std::vector<ParameterRef> MultiTaskModel::dense_parameters() {
  auto out = head_.parameters();
  for (FeatureTower* t : {user_tower_.get(), item_tower_.get()})
    if (t) for (auto& p : t->dense_parameters()) out.push_back(p);
  return out;
}

std::vector<ParameterView> MultiTaskModel::dense_parameter_values() const {
  auto out = head_.parameter_values();
  for (const FeatureTower* t : {user_tower_.get(), item_tower_.get()})
    if (t) for (auto& p : t->dense_parameter_values()) out.push_back(p);
  return out;
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

void MultiTaskModel::user_vectors(const int32_t* rows, const int64_t* timestamps, int64_t n,
                                  float* out) const {
  if (user_tower_) {
    user_tower_->compute(rows, timestamps, n, out);
  } else {
    users_.gather(rows, n, out);
  }
}

void MultiTaskModel::item_vectors(const int32_t* rows, int64_t n, float* out) const {
  if (item_tower_) {
    item_tower_->compute(rows, nullptr, n, out);
  } else {
    items_.gather(rows, n, out);
  }
}

void MultiTaskModel::predict_from_vectors(const float* users, const float* items, int64_t n,
                                          float* out, std::vector<float>& scratch) const {
  const int64_t d = out_dim_;
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

void MultiTaskModel::predict_ratings(const int32_t* users, const int32_t* items, int64_t n,
                                     float* out, std::vector<float>& scratch,
                                     const int64_t* timestamps) const {
  if (user_tower_) {
    std::vector<float> u(static_cast<size_t>(n * out_dim_)), v(u.size());
    user_vectors(users, timestamps, n, u.data());
    item_vectors(items, n, v.data());
    predict_from_vectors(u.data(), v.data(), n, out, scratch);
    return;
  }
  const int64_t d = shape_.dim;
  constexpr int64_t kChunk = 1024;
  std::vector<float> x(static_cast<size_t>(std::min(n, kChunk) * 2 * d));
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
