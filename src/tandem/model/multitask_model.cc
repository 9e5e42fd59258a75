#include "tandem/model/multitask_model.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "tandem/core/error.h"
#include "tandem/model/mse_loss.h"

namespace tandem {

namespace {
constexpr uint64_t kUserStream = 1, kItemStream = 2, kHeadStream = 3;

// a * b + c, or INT64_MAX when that overflows (sizes are never negative).
int64_t saturating_mul_add(int64_t a, int64_t b, int64_t c) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r) || __builtin_add_overflow(r, c, &r))
    return std::numeric_limits<int64_t>::max();
  return r;
}
}  // namespace

int64_t parameter_count(const ModelShape& shape) {
  int64_t n = saturating_mul_add(shape.user_rows, shape.dim, 0);
  n = saturating_mul_add(shape.item_rows, shape.dim, n);
  // The head as Mlp lays it out: per layer a [width, units] kernel and a
  // [units] bias, from the concatenated embeddings to one output.
  int64_t width = 2 * shape.dim;
  for (size_t i = 0; i <= shape.hidden.size(); ++i) {
    const int64_t units = i == shape.hidden.size() ? 1 : shape.hidden[i];
    n = saturating_mul_add(width, units, saturating_mul_add(units, 1, n));
    width = units;
  }
  return n;
}

MultiTaskModel::MultiTaskModel(const ModelShape& shape, int64_t max_batch, int workers)
    : shape_(shape),
      max_batch_(max_batch),
      workers_(workers),
      users_(shape.user_rows, shape.dim),
      items_(shape.item_rows, shape.dim),
      head_(2 * shape.dim, shape.hidden, 1, max_batch),
      retrieval_loss_(max_batch, 256, workers),
      user_emb_(static_cast<size_t>(max_batch * shape.dim)),
      item_emb_(user_emb_.size()),
      user_dgrad_(user_emb_.size()),
      item_dgrad_(user_emb_.size()),
      head_grads_(static_cast<size_t>(workers)),
      worker_mse_(static_cast<size_t>(workers), 0.0),
      user_grad_(shape.user_rows, shape.dim, max_batch),
      item_grad_(shape.item_rows, shape.dim, max_batch),
      user_dedup_(shape.user_rows, max_batch),
      item_dedup_(shape.item_rows, max_batch),
      ranking_loss_(max_batch) {
  TANDEM_CHECK(workers >= 1, "worker count must be positive, got " << workers);
  for (auto& g : head_grads_) g.assign(static_cast<size_t>(head_.parameter_count()), 0.0f);
}

void MultiTaskModel::init(uint64_t seed) {
  Rng user_rng(derive_seed(seed, kUserStream));
  users_.init_uniform(user_rng);
  Rng item_rng(derive_seed(seed, kItemStream));
  items_.init_uniform(item_rng);
  Rng head_rng(derive_seed(seed, kHeadStream));
  head_.init_glorot(head_rng);
}

StepLosses MultiTaskModel::compute_gradients(const Batch& batch, const TaskWeights& w,
                                             ThreadPool* pool) {
  const int64_t n = batch.size;
  const int64_t d = shape_.dim;
  TANDEM_CHECK(n > 0 && n <= max_batch_,
               "batch of " << n << " examples; this model was built for 1.." << max_batch_);
  const int workers = pool ? pool->size() : 1;
  TANDEM_CHECK(workers <= workers_,
               "model built for " << workers_ << " workers, run with " << workers);
  const bool ranking = w.ranking != 0.0f;
  // MSE's gradient needs only the global n, not other rows: each worker runs
  // its slice's head forward, loss and backward in one pass. The other
  // ranking losses couple examples of one user wherever they lie in the
  // batch: every slice's forward first, the loss once over the whole batch,
  // then every slice's backward.
  const bool batch_loss = ranking && ranking_spec_.kind != RankingLossKind::kMse;

  auto head_backward = [&](int worker, const Range& r) {
    head_.bprop_rows(r.begin, r.end, head_grads_[static_cast<size_t>(worker)].data());
    const float* dx = head_.input_grad();
    for (int64_t i = r.begin; i < r.end; ++i) {
      std::memcpy(user_dgrad_.data() + i * d, dx + i * 2 * d, static_cast<size_t>(d) * sizeof(float));
      std::memcpy(item_dgrad_.data() + i * d, dx + i * 2 * d + d,
                  static_cast<size_t>(d) * sizeof(float));
    }
  };
  // Per worker, on its own rows: gather, then the rating head forward (and,
  // under MSE, the loss and the backward).
  auto slice = [&](int worker) {
    const Range r = split_range(n, workers, worker);
    if (r.size() == 0) {
      if (ranking) std::fill(head_grads_[static_cast<size_t>(worker)].begin(),
                             head_grads_[static_cast<size_t>(worker)].end(), 0.0f);
      worker_mse_[static_cast<size_t>(worker)] = 0.0;
      return;
    }
    users_.gather(batch.users + r.begin, r.size(), user_emb_.data() + r.begin * d);
    items_.gather(batch.items + r.begin, r.size(), item_emb_.data() + r.begin * d);
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
    if (batch_loss) return;
    worker_mse_[static_cast<size_t>(worker)] = MseLoss::slice_sum_and_backward(
        head_.output() + r.begin, batch.labels + r.begin, r.size(), n, w.ranking,
        head_.output_grad() + r.begin);
    head_backward(worker, r);
  };
  if (pool) {
    pool->run(slice);
  } else {
    slice(0);
  }
  double batch_ranking_loss = 0.0;
  if (batch_loss) {
    // Example weights are not wired yet: null = all 1.
    batch_ranking_loss = ranking_loss_.forward_backward(ranking_spec_, head_.output(), batch.labels,
                                                        batch.users, nullptr, n, w.ranking,
                                                        head_.output_grad());
    auto backward = [&](int worker) {
      const Range r = split_range(n, workers, worker);
      if (r.size() > 0) head_backward(worker, r);  // an empty slice zeroed its gradients above
    };
    if (pool) {
      pool->run(backward);
    } else {
      backward(0);
    }
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
  }
  if (w.retrieval != 0.0f) {
    if (distinct_rows_) {
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
  user_grad_.assign(batch.users, user_dgrad_.data(), n);
  item_grad_.assign(batch.items, item_dgrad_.data(), n);
  return losses;
}

void MultiTaskModel::predict_ratings(const int32_t* users, const int32_t* items, int64_t n,
                                     float* out, std::vector<float>& scratch) const {
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
