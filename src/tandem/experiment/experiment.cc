#include "tandem/experiment/experiment.h"
#include "tandem/evaluate/ranking_output.h"
#include "tandem/experiment/resource_guard.h"

#include "tandem/artifact/checkpoint.h"
#include "tandem/core/blas.h"
#include "tandem/core/error.h"
#include "tandem/core/random.h"

namespace tandem {

namespace {
constexpr uint64_t kInitStream = 101, kShuffleStream = 102, kSampleStream = 103;
}  // namespace


namespace {

// fit() with checkpoints: restores the resume point (after checking it was
// trained on the same data), writes checkpoints on the schedule and at the
// end, and names the last good checkpoint in any training error.
std::vector<EpochStats> fit_with_checkpoints(const Checkpointing& ck, const ExperimentConfig& config,
                                             const PreparedData& data, MultiTaskModel& model,
                                             Trainer& trainer,
                                             const std::function<void(const EpochStats&)>& on_epoch,
                                             const StepHook& on_step) {
  const CheckpointRun run{config, ck.settings, data_fingerprint(data)};
  if (ck.resume != nullptr) {
    const Checkpoint& c = ck.resume->checkpoint;
    const std::string& source = ck.resume->path;
    TANDEM_CHECK(c.run.data_fingerprint == run.data_fingerprint,
                 source << ": the checkpoint was trained on other data than " << data.source
                        << " gives now (the examples' fingerprints differ)");
    restore_weights(c, model, source);
    try {
      trainer.restore(c.trainer);
    } catch (const Error& e) {
      TANDEM_THROW(source << ": " << e.what());
    }
  }
  CheckpointWriter writer(ck.dir, ck.resume);
  auto save = [&](const TrainerState& s) {
    const CheckpointWritten w = writer.write(run, model, s);
    if (ck.on_write) ck.on_write(w);
  };
  try {
    auto history = trainer.fit(data.train, on_epoch, [&](const TrainerState& s) {
      if (ck.schedule.due(s)) save(s);
      if (on_step) on_step(s);
    });
    // A final checkpoint, so that resuming a run that was stopped during
    // evaluation or saving only redoes those.
    if (writer.last_good_step() != trainer.state().global_step) save(trainer.state());
    return history;
  } catch (const Error& e) {
    TANDEM_THROW(e.what() << "; "
                          << (writer.last_good().empty()
                                  ? std::string("no checkpoint was written")
                                  : "the last good checkpoint is " + writer.last_good()));
  }
}

}  // namespace



std::vector<Variant> tutorial_variants() {
  return {{"rating", {1.0f, 0.0f}}, {"retrieval", {0.0f, 1.0f}}, {"joint", {1.0f, 1.0f}}};
}

void apply_threads(const ExperimentConfig& config) { blas::set_threads(effective_threads(config)); }

std::pair<TrainedModel, RunResult> train_and_evaluate(const ExperimentConfig& config,
                                                      const PreparedData& data,
                                                      const std::string& name,
                                                      const EpochCallback& on_epoch,
                                                      const Checkpointing* checkpointing,
                                                      const ProgressHooks* progress) {
  config.validate();
  check_training_resources(config, data);
  const int threads = effective_threads(config);
  const bool split_batches = config.parallelism == Parallelism::kBatch && threads > 1;
  // Batch splitting: each worker calls a single-threaded BLAS. Otherwise the
  // BLAS gets the threads.
  blas::set_threads(split_batches ? 1 : threads);
  ModelShape shape = model_shape(config, data.users.rows(), data.items.rows());
  shape.user_tower = data.towers.user;
  shape.item_tower = data.towers.item;

  TrainedModel tm;
  tm.config = config;
  tm.users = data.users;
  tm.items = data.items;
  tm.catalogue = data.catalogue;
  tm.names = data.names;
  tm.set_training_interactions(data.train);
  tm.model = std::make_unique<MultiTaskModel>(
      shape, std::min<int64_t>(config.batch_size, static_cast<int64_t>(data.train.size())),
      split_batches ? threads : 1, config.retrieval.mixed_negatives);
  tm.model->init(derive_seed(config.training_seed(), kInitStream));
  tm.model->set_distinct_rows(config.distinct_rows);
  tm.model->set_softmax_precision(config.softmax_precision);
  // Example weights take the optioned softmax too: configured here, so that
  // no training step allocates it.
  if (config.retrieval.any() || !data.train.weights.empty()) {
    // logQ: each item row's share of the training interactions (rows never
    // trained on cannot be in a batch; they get half a count, to stay finite).
    std::vector<float> log_p(tm.item_train_counts.size());
    const double total = static_cast<double>(data.train.size());
    for (size_t r = 0; r < log_p.size(); ++r) {
      log_p[r] = static_cast<float>(
          std::log(std::max(0.5, static_cast<double>(tm.item_train_counts[r])) / total));
    }
    tm.model->configure_retrieval(config.retrieval, std::move(log_p), data.catalogue.rows);
  }
  tm.model->set_ranking_loss(ranking_loss_spec(config));

  TrainConfig tc;
  tc.optimizer = config.optimizer;
  tc.weights = config.weights;
  tc.batch_size = std::min<int64_t>(config.batch_size, static_cast<int64_t>(data.train.size()));
  tc.epochs = config.epochs;
  tc.shuffle = config.shuffle;
  tc.shuffle_seed = derive_seed(config.training_seed(), kShuffleStream);
  tc.sample_seed = derive_seed(config.training_seed(), kSampleStream);
  tc.workers = split_batches ? threads : 1;
  Trainer trainer(*tm.model, tc);

  RunResult r;
  r.model = name;
  r.config = config;
  r.coverage = data.coverage;
  const auto epoch_done = [&](const EpochStats& e) {
    if (on_epoch) on_epoch(name, e);
  };
  StepHook step_done;
  if (progress != nullptr && progress->on_step) {
    const int64_t steps = (static_cast<int64_t>(data.train.size()) + tc.batch_size - 1) / tc.batch_size;
    step_done = [&, steps](const TrainerState& s) {
      if (s.step_in_epoch == 0) return;  // the epoch just ended: on_epoch has it
      const EpochStats& e = s.current;
      const auto n = static_cast<double>(e.steps);
      progress->on_step(name, {s.epochs_done + 1, config.epochs, s.step_in_epoch, steps, e.examples,
                               e.ranking_loss / n, e.retrieval_loss / n, e.seconds});
    };
  }
  r.history = checkpointing == nullptr
                  ? trainer.fit(data.train, epoch_done, step_done)
                  : fit_with_checkpoints(*checkpointing, config, data, *tm.model, trainer, epoch_done,
                                         step_done);
  for (const auto& e : r.history) r.train_seconds += e.seconds;
  blas::set_threads(threads);  // evaluation's large GEMMs use the BLAS threads
  std::function<void(int64_t, int64_t)> eval_progress;
  if (progress != nullptr && progress->on_eval)
    eval_progress = [&](int64_t done, int64_t total) { progress->on_eval(name, done, total); };
  const SeenItems seen = config.exclude_seen ? SeenItems{tm.seen_offsets, tm.seen_items} : SeenItems{};
  r.eval = evaluate(*tm.model, config, data.catalogue, data.test, data.test_ratings, eval_progress, &seen);
  tm.metrics = r.to_json();
  return {std::move(tm), std::move(r)};
}

}  // namespace tandem
