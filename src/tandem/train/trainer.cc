#include "tandem/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "tandem/core/error.h"

namespace tandem {

namespace {

// Updates smaller than this stay on the calling thread: waking the pool
// costs more than the arithmetic.
constexpr int64_t kParallelUpdateFloats = int64_t{1} << 14;
// Likewise batches smaller than this are gathered by the calling thread.
constexpr int64_t kParallelGatherExamples = 2048;

}  // namespace

std::string to_string(ShuffleMode m) {
  switch (m) {
    case ShuffleMode::kNone: return "none";
    case ShuffleMode::kOnce: return "once";
    case ShuffleMode::kEveryEpoch: return "every-epoch";
  }
  return "?";
}

ShuffleMode parse_shuffle_mode(const std::string& s) {
  if (s == "none") return ShuffleMode::kNone;
  if (s == "once") return ShuffleMode::kOnce;
  if (s == "every-epoch") return ShuffleMode::kEveryEpoch;
  TANDEM_THROW("unknown shuffle mode '" << s << "' (known: none, once, every-epoch)");
}

Trainer::Trainer(MultiTaskModel& model, const TrainConfig& config)
    : model_(model),
      cfg_(config),
      optimizer_(config.optimizer),
      params_(model.dense_parameters()),
      tables_(model.sparse_parameters()),
      weights_(config.weights.extra_count > 0 ? config.weights
                                               : model.with_extra_weights(config.weights)),
      trained_(model.trained_dense_parameters(weights_)) {
  TANDEM_CHECK(cfg_.batch_size > 0, "batch size must be positive, got " << cfg_.batch_size);
  TANDEM_CHECK(cfg_.batch_size <= model.max_batch(),
               "batch size " << cfg_.batch_size << " exceeds the model's capacity "
                             << model.max_batch());
  TANDEM_CHECK(cfg_.epochs >= 0, "epochs must be >= 0, got " << cfg_.epochs);
  if (cfg_.workers > 1) pool_ = std::make_unique<ThreadPool>(cfg_.workers, cfg_.pin_threads);
  batch_users_.resize(static_cast<size_t>(cfg_.batch_size));
  batch_items_.resize(batch_users_.size());
  batch_labels_.resize(batch_users_.size());
  batch_timestamps_.resize(batch_users_.size());
  batch_weights_.resize(batch_users_.size());
  st_.shuffle_state = cfg_.shuffle_seed;
  st_.optimizer = optimizer_.name();
  st_.slot_names = optimizer_.slot_names();
  for (const auto& p : params_) st_.dense_slots.push_back(optimizer_.make_slots(static_cast<size_t>(p.size)));
  for (const auto& t : tables_) st_.sparse_slots.push_back(optimizer_.make_slots(t.table->weights.size()));
  st_.history.reserve(static_cast<size_t>(cfg_.epochs));
  profile_.threads = cfg_.workers;
  profile_.rows_touched.assign(tables_.size(), 0.0);
  model_.set_profile(&profile_);
}

Trainer::~Trainer() { model_.set_profile(nullptr); }

void Trainer::restore(TrainerState s) {
  optimizer_.check_state(s.optimizer, s.slot_names);
  TANDEM_CHECK(s.dense_slots.size() == params_.size(),
               "training state has optimizer state for " << s.dense_slots.size()
                                                          << " dense parameters, the model "
                                                          << params_.size());
  for (size_t p = 0; p < params_.size(); ++p)
    optimizer_.check_slots(s.dense_slots[p], params_[p].name, static_cast<size_t>(params_[p].size));
  TANDEM_CHECK(s.sparse_slots.size() == tables_.size(),
               "training state has optimizer state for " << s.sparse_slots.size()
                                                          << " embedding tables, the model "
                                                          << tables_.size());
  for (size_t t = 0; t < tables_.size(); ++t)
    optimizer_.check_slots(s.sparse_slots[t], tables_[t].name, tables_[t].table->weights.size());
  TANDEM_CHECK(s.epochs_done >= 0 && s.step_in_epoch >= 0 &&
                   static_cast<int64_t>(s.history.size()) == s.epochs_done,
               "training state is inconsistent: " << s.epochs_done << " epochs done, "
                                                  << s.history.size() << " in the history");
  int64_t steps = s.step_in_epoch;
  for (const auto& e : s.history) steps += e.steps;
  TANDEM_CHECK(steps == s.global_step && s.current.steps == s.step_in_epoch,
               "training state is inconsistent: step " << s.global_step << " but the epochs add up to "
                                                       << steps);
  // A permutation, or a gather through it would read out of bounds.
  std::vector<bool> seen(s.order.size(), false);
  for (uint32_t e : s.order) {
    TANDEM_CHECK(e < seen.size() && !seen[e], "training state's example order is not a permutation");
    seen[e] = true;
  }
  st_ = std::move(s);
  st_.history.reserve(static_cast<size_t>(std::max(cfg_.epochs, st_.epochs_done)));
}

bool Trainer::step(BatchSource& train) {
  const auto start = std::chrono::steady_clock::now();
  const int64_t n = train.size();
  TANDEM_CHECK(n > 0, "no training examples");
  const int64_t steps_per_epoch = (n + cfg_.batch_size - 1) / cfg_.batch_size;
  TANDEM_CHECK(st_.step_in_epoch < steps_per_epoch,
               "the training state is at step " << st_.step_in_epoch << " of an epoch of "
                                                << steps_per_epoch << " steps");
  const double parallel_before = pool_ ? pool_->parallel_seconds() : 0.0;
  {
    // The source's order for the step: a new shuffle at an epoch's start.
    PhaseTimer timer(&profile_, StepPhase::kShuffle);
    train.start_step(st_, cfg_.shuffle);
  }
  EpochStats& stats = st_.current;
  if (st_.step_in_epoch == 0) {
    stats = EpochStats{};
    stats.epoch = st_.epochs_done + 1;
    stats.extra_losses.assign(static_cast<size_t>(weights_.extra_count), 0.0);
  }

  const int64_t s = st_.step_in_epoch * cfg_.batch_size;
  const int64_t m = std::min(cfg_.batch_size, n - s);
  // With several ranks, this rank's part of the batch (the ranks' parts
  // make the m examples at positions [s, s + m)).
  int64_t mine = m;
  if (model_.shard().sharded()) {
    PhaseTimer timer(&profile_, StepPhase::kBatchGather);
    mine = train.gather_part(st_, s, m,
                             {batch_users_.data(), batch_items_.data(), batch_labels_.data(),
                              batch_timestamps_.data(), batch_weights_.data()});
  } else {
    PhaseTimer timer(&profile_, StepPhase::kBatchGather);
    // Each worker copies its slice of the batch (random reads from the
    // examples) where the source allows it; a copy is a copy, so the batch
    // is the same for any split.
    const bool parallel = pool_ && m >= kParallelGatherExamples && train.gathers_concurrently();
    const int parts = parallel ? pool_->size() : 1;
    run_workers(parallel ? pool_.get() : nullptr, [&](int worker) {
      const Range r = split_range(m, parts, worker);
      if (r.size() == 0) return;
      const auto at = static_cast<size_t>(r.begin);
      train.gather(st_, s + r.begin, r.size(),
                   {batch_users_.data() + at, batch_items_.data() + at, batch_labels_.data() + at,
                    batch_timestamps_.data() + at, batch_weights_.data() + at});
    });
  }
  Batch batch{batch_users_.data(), batch_items_.data(), batch_labels_.data(), mine};
  if (train.has_weights()) batch.weights = batch_weights_.data();
  batch.sample_seed = derive_seed(cfg_.sample_seed, static_cast<uint64_t>(st_.global_step));
  // Timestamps travel only when the examples have them (a timestamp feature).
  if (train.has_timestamps()) batch.timestamps = batch_timestamps_.data();
  const StepLosses losses = model_.compute_gradients(batch, weights_, pool_.get());
  // Checked before the update, so the weights (and any checkpoint) stay those
  // of the last finite step.
  TANDEM_CHECK(std::isfinite(losses.total),
               "loss became " << losses.total << " at step " << st_.global_step + 1 << " (epoch "
                              << stats.epoch << ", step " << st_.step_in_epoch + 1 << " of "
                              << steps_per_epoch << "; try a lower learning rate)");
  // The rate of this step: a function of the global step alone, so a resumed
  // run continues the schedule exactly.
  optimizer_.begin_step(st_.global_step, static_cast<int64_t>(cfg_.epochs) * steps_per_epoch);
  update_parameters();
  stats.learning_rate = optimizer_.learning_rate();
  stats.ranking_loss += losses.ranking;
  stats.retrieval_loss += losses.retrieval;
  for (size_t e = 0; e < stats.extra_losses.size(); ++e) stats.extra_losses[e] += losses.extra[e];
  stats.total_loss += losses.total;
  stats.steps += 1;
  stats.score_entries += static_cast<double>(losses.score_rows) * static_cast<double>(losses.score_cols);
  stats.examples += m;
  st_.step_in_epoch += 1;
  st_.global_step += 1;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stats.seconds += seconds;
  profile_.step_seconds += seconds;
  profile_.steps += 1;
  profile_.examples += m;
  profile_.score_entries += static_cast<double>(losses.score_rows) * static_cast<double>(losses.score_cols);
  if (pool_) profile_.parallel_seconds += pool_->parallel_seconds() - parallel_before;
  if (st_.step_in_epoch < steps_per_epoch) return false;

  stats.ranking_loss /= static_cast<double>(stats.steps);
  stats.retrieval_loss /= static_cast<double>(stats.steps);
  for (double& l : stats.extra_losses) l /= static_cast<double>(stats.steps);
  stats.total_loss /= static_cast<double>(stats.steps);
  stats.learned_task_weights = model_.learned_task_weights();
  st_.history.push_back(stats);
  st_.epochs_done += 1;
  st_.step_in_epoch = 0;
  stats = EpochStats{};
  return true;
}


void Trainer::update_parameters() {
  // Every rule is elementwise and a row gradient's rows are distinct, so
  // any split gives the serial result bit for bit.
  // The model says which dense parameters this step trained: a head whose
  // task is off got no gradient, and it (and its optimizer state) must not
  // move.
  {
    PhaseTimer timer(&profile_, StepPhase::kOptimizerDense);
    int64_t floats = 0;
    for (size_t p = 0; p < params_.size(); ++p)
      if (trained_[p]) floats += params_[p].size;
    const bool parallel = floats >= kParallelUpdateFloats;
    const int parts = pool_ && parallel ? pool_->size() : 1;
    run_workers(parallel ? pool_.get() : nullptr, [&](int worker) {
      for (size_t p = 0; p < params_.size(); ++p) {
        if (!trained_[p]) continue;
        const Range r = split_range(params_[p].size, parts, worker);
        optimizer_.update_dense(params_[p], st_.dense_slots[p], r.begin, r.end);
      }
    });
  }
  PhaseTimer timer(&profile_, StepPhase::kOptimizerSparse);
  int64_t floats = 0;
  for (size_t t = 0; t < tables_.size(); ++t) {
    floats += tables_[t].grad->count() * tables_[t].grad->dim();
    profile_.rows_touched[t] += static_cast<double>(tables_[t].grad->count());
  }
  const bool parallel = floats >= kParallelUpdateFloats;
  const int parts = pool_ && parallel ? pool_->size() : 1;
  run_workers(parallel ? pool_.get() : nullptr, [&](int worker) {
    for (size_t t = 0; t < tables_.size(); ++t) {
      const Range r = split_range(tables_[t].grad->count(), parts, worker);
      optimizer_.update_rows(*tables_[t].table, *tables_[t].grad, st_.sparse_slots[t], r.begin, r.end);
    }
  });
}

EpochStats Trainer::run_epoch(const Examples& train) {
  ExamplesSource source(train);
  return run_epoch(source);
}

EpochStats Trainer::run_epoch(BatchSource& train) {
  while (!step(train)) {
  }
  return st_.history.back();
}

std::vector<EpochStats> Trainer::fit(const Examples& train,
                                     const std::function<void(const EpochStats&)>& on_epoch,
                                     const StepHook& after_step) {
  ExamplesSource source(train);
  return fit(source, on_epoch, after_step);
}

std::vector<EpochStats> Trainer::fit(BatchSource& train,
                                     const std::function<void(const EpochStats&)>& on_epoch,
                                     const StepHook& after_step) {
  while (st_.epochs_done < cfg_.epochs) {
    const bool epoch_done = step(train);
    if (epoch_done && on_epoch) on_epoch(st_.history.back());
    if (after_step) after_step(st_);
  }
  return st_.history;
}

}  // namespace tandem
