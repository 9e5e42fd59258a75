#include "tandem/model/multitask_model.h"

#include <algorithm>
#include <cstring>

#include "tandem/core/error.h"
#include "tandem/model/mse_loss.h"

namespace tandem {

namespace {
constexpr uint64_t kUserStream = 1, kItemStream = 2, kHeadStream = 3;
}

MultiTaskModel::MultiTaskModel(const ModelShape& shape, int64_t max_batch)
    : shape_(shape),
      max_batch_(max_batch),
      users_(shape.user_rows, shape.dim),
      items_(shape.item_rows, shape.dim),
      head_(2 * shape.dim, shape.hidden, 1, max_batch),
      retrieval_loss_(max_batch),
      user_emb_(static_cast<size_t>(max_batch * shape.dim)),
      item_emb_(user_emb_.size()),
      user_dgrad_(user_emb_.size()),
      item_dgrad_(user_emb_.size()),
      rating_grad_(static_cast<size_t>(max_batch)),
      user_grad_(shape.user_rows, shape.dim, max_batch),
      item_grad_(shape.item_rows, shape.dim, max_batch) {}

void MultiTaskModel::init(uint64_t seed) {
  Rng user_rng(derive_seed(seed, kUserStream));
  users_.init_uniform(user_rng);
  Rng item_rng(derive_seed(seed, kItemStream));
  items_.init_uniform(item_rng);
  Rng head_rng(derive_seed(seed, kHeadStream));
  head_.init_glorot(head_rng);
}

StepLosses MultiTaskModel::compute_gradients(const Batch& batch, const TaskWeights& w) {
  const int64_t n = batch.size;
  const int64_t d = shape_.dim;
  TANDEM_CHECK(n > 0 && n <= max_batch_,
               "batch of " << n << " examples; this model was built for 1.." << max_batch_);
  users_.gather(batch.users, n, user_emb_.data());
  items_.gather(batch.items, n, item_emb_.data());
  std::fill_n(user_dgrad_.data(), n * d, 0.0f);
  std::fill_n(item_dgrad_.data(), n * d, 0.0f);

  StepLosses losses;
  if (w.retrieval != 0.0f) {
    losses.retrieval = retrieval_loss_.forward_backward(user_emb_.data(), item_emb_.data(), n, d,
                                                        w.retrieval, user_dgrad_.data(),
                                                        item_dgrad_.data());
  }
  if (w.ranking != 0.0f) {
    float* x = head_.input();
    for (int64_t i = 0; i < n; ++i) {
      std::memcpy(x + i * 2 * d, user_emb_.data() + i * d, static_cast<size_t>(d) * sizeof(float));
      std::memcpy(x + i * 2 * d + d, item_emb_.data() + i * d,
                  static_cast<size_t>(d) * sizeof(float));
    }
    head_.fprop(n);
    const float* pred = head_.output();
    losses.ranking = MseLoss::forward(pred, batch.labels, n);
    MseLoss::backward(pred, batch.labels, n, w.ranking, head_.output_grad());
    head_.bprop(n);
    const float* dx = head_.input_grad();
    for (int64_t i = 0; i < n; ++i) {
      const float* du = dx + i * 2 * d;
      const float* dm = du + d;
      float* gu = user_dgrad_.data() + i * d;
      float* gm = item_dgrad_.data() + i * d;
      for (int64_t j = 0; j < d; ++j) {
        gu[j] += du[j];
        gm[j] += dm[j];
      }
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
