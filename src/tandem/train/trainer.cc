#include "tandem/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "tandem/core/error.h"

namespace tandem {

Trainer::Trainer(MultiTaskModel& model, const TrainConfig& config)
    : model_(model), cfg_(config), shuffle_rng_(config.shuffle_seed) {
  TANDEM_CHECK(cfg_.batch_size > 0, "batch size must be positive, got " << cfg_.batch_size);
  TANDEM_CHECK(cfg_.batch_size <= model.max_batch(),
               "batch size " << cfg_.batch_size << " exceeds the model's capacity "
                             << model.max_batch());
  TANDEM_CHECK(cfg_.epochs >= 0, "epochs must be >= 0, got " << cfg_.epochs);
  if (cfg_.workers > 1) pool_ = std::make_unique<ThreadPool>(cfg_.workers);
  batch_users_.resize(static_cast<size_t>(cfg_.batch_size));
  batch_items_.resize(batch_users_.size());
  batch_labels_.resize(batch_users_.size());
  for (const auto& p : model_.dense_parameters()) {
    dense_acc_.emplace_back(static_cast<size_t>(p.size), cfg_.adagrad.initial_accumulator);
  }
  user_acc_.assign(model_.user_table().weights.size(), cfg_.adagrad.initial_accumulator);
  item_acc_.assign(model_.item_table().weights.size(), cfg_.adagrad.initial_accumulator);
}

EpochStats Trainer::run_epoch(const Examples& train) {
  const auto start = std::chrono::steady_clock::now();
  const int64_t n = static_cast<int64_t>(train.size());
  TANDEM_CHECK(n > 0, "no training examples");
  if (order_.size() != train.size()) {
    order_.resize(train.size());
    std::iota(order_.begin(), order_.end(), 0u);
  }
  if (cfg_.reshuffle_each_epoch) shuffle(order_, shuffle_rng_);

  EpochStats stats;
  stats.epoch = ++epoch_;
  const bool ranking = cfg_.weights.ranking != 0.0f;
  auto params = model_.dense_parameters();
  for (int64_t s = 0; s < n; s += cfg_.batch_size) {
    const int64_t m = std::min(cfg_.batch_size, n - s);
    for (int64_t i = 0; i < m; ++i) {
      const uint32_t e = order_[static_cast<size_t>(s + i)];
      batch_users_[static_cast<size_t>(i)] = train.users[e];
      batch_items_[static_cast<size_t>(i)] = train.items[e];
      batch_labels_[static_cast<size_t>(i)] = train.labels[e];
    }
    const Batch batch{batch_users_.data(), batch_items_.data(), batch_labels_.data(), m};
    const StepLosses losses = model_.compute_gradients(batch, cfg_.weights, pool_.get());
    TANDEM_CHECK(std::isfinite(losses.total),
                 "loss became " << losses.total << " at epoch " << stats.epoch << " step "
                                << stats.steps + 1 << " (try a lower learning rate)");
    if (ranking) {
      for (size_t p = 0; p < params.size(); ++p) {
        adagrad_update(cfg_.adagrad, params[p].value, dense_acc_[p].data(), params[p].grad,
                       params[p].size);
      }
    }
    adagrad_update_rows(cfg_.adagrad, model_.user_table(), user_acc_, model_.user_grad());
    adagrad_update_rows(cfg_.adagrad, model_.item_table(), item_acc_, model_.item_grad());
    stats.ranking_loss += losses.ranking;
    stats.retrieval_loss += losses.retrieval;
    stats.total_loss += losses.total;
    stats.steps += 1;
    stats.score_entries += static_cast<double>(losses.score_rows) * static_cast<double>(losses.score_cols);
    stats.examples += m;
  }
  stats.ranking_loss /= static_cast<double>(stats.steps);
  stats.retrieval_loss /= static_cast<double>(stats.steps);
  stats.total_loss /= static_cast<double>(stats.steps);
  stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

std::vector<EpochStats> Trainer::fit(const Examples& train,
                                     const std::function<void(const EpochStats&)>& on_epoch) {
  std::vector<EpochStats> all;
  for (int e = 0; e < cfg_.epochs; ++e) {
    all.push_back(run_epoch(train));
    if (on_epoch) on_epoch(all.back());
  }
  return all;
}

}  // namespace tandem
