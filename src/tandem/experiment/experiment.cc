#include "tandem/experiment/experiment.h"
#include "tandem/evaluate/ranking_output.h"
#include "tandem/experiment/resource_guard.h"
#include "tandem/experiment/store_interactions.h"
#include "tandem/prepare/store_batch_source.h"

#include "tandem/artifact/checkpoint.h"
#include "tandem/artifact/rank_checkpoints.h"
#include "tandem/evaluate/sharded_evaluation.h"
#include "tandem/model/shard_gather.h"
#include "tandem/model/sharded_traffic.h"

#include <sys/resource.h>

#include <optional>
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
                                             uint64_t fingerprint, const std::string& data_source,
                                             BatchSource& train, MultiTaskModel& model, Trainer& trainer,
                                             const std::function<void(const EpochStats&)>& on_epoch,
                                             const StepHook& on_step, Ranks ranks) {
  const CheckpointRun run{config, ck.settings, fingerprint};
  if (ranks.distributed() && ck.resume == nullptr) {
    TANDEM_CHECK(!read_rank_manifest(ck.dir).has_value(),
                 ck.dir << " already holds the checkpoints of a run on several ranks: continue it with "
                           "--resume "
                        << ck.dir << ", or checkpoint into another directory");
  }
  if (ck.resume != nullptr) {
    const Checkpoint& c = ck.resume->checkpoint;
    const std::string& source = ck.resume->path;
    TANDEM_CHECK(c.run.data_fingerprint == run.data_fingerprint,
                 source << ": the checkpoint was trained on other data than " << data_source
                        << " gives now (the examples' fingerprints differ)");
    restore_weights(c, model, source);
    try {
      trainer.restore(c.trainer);
    } catch (const Error& e) {
      TANDEM_THROW(source << ": " << e.what());
    }
  }
  // Several ranks: each its own directory, then rank 0 the manifest once
  // every shard of the step is on disk.
  CheckpointWriter writer(ranks.distributed() ? rank_checkpoint_dir(ck.dir, ranks.rank(), ranks.size()) : ck.dir,
                          ck.resume);
  auto save = [&](const TrainerState& s) {
    const CheckpointWritten w = writer.write(run, model, s);
    if (ranks.distributed()) {
      ranks.comm->barrier();
      if (ranks.rank() == 0) write_rank_manifest(ck.dir, {ranks.size(), s.global_step});
    }
    if (ck.on_write) ck.on_write(w);
  };
  try {
    auto history = trainer.fit(train, on_epoch, [&](const TrainerState& s) {
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

namespace {

// What training needs of its data, in memory or in a store.
struct TrainingInput {
  const Vocabulary& users;
  const Vocabulary& items;
  const RetrievalCatalogue& catalogue;
  const IdNames& names;
  const TowerSpecs& towers;
  const TestCoverage& coverage;
  const std::string& source;
  BatchSource& train;
  bool train_weighted;
  uint64_t fingerprint;
  // Fills the model's item counts and seen items from the training examples.
  std::function<void(TrainedModel&)> index_interactions;
  const Examples& test;
  const std::vector<float>& test_ratings;
};

// The seen items evaluation's exclude_seen needs: those of the users in
// `test` (rank_test_users reads no others), the other users' lists left
// empty. The same ranking as with every list, without a copy of the whole
// index, and for a model whose seen items stay in a store, reading only
// these users' items from it.
SeenItems seen_of_test_users(const TrainedModel& tm, const Examples& test) {
  SeenItems s;
  if (tm.seen_offsets.empty()) return s;
  const size_t user_rows = tm.seen_offsets.size() - 1;
  std::vector<char> tested(user_rows, 0);
  for (int32_t u : test.users)
    if (u >= 0 && static_cast<size_t>(u) < user_rows) tested[static_cast<size_t>(u)] = 1;
  s.offsets.reserve(user_rows + 1);
  s.offsets.push_back(0);
  std::vector<int32_t> items;
  for (size_t u = 0; u < user_rows; ++u) {
    if (tested[u]) {
      tm.seen_items_of(static_cast<int64_t>(u), items);
      s.items.insert(s.items.end(), items.begin(), items.end());
    }
    s.offsets.push_back(static_cast<int64_t>(s.items.size()));
  }
  return s;
}

// Peak resident memory of this process so far, in bytes.
double peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) * 1024.0;
}

// What each rank held and sent, gathered on every rank (RunResult::distributed).
nlohmann::json rank_report(const MultiTaskModel& shard, const Trainer& trainer, Communicator& comm) {
  double tables = 0.0;
  for (const TableView& t : shard.sparse_parameter_values())
    tables += static_cast<double>(t.table->weights.size()) * sizeof(float) *
              static_cast<double>(1 + trainer.optimizer_slots());
  const TrafficCounters& c = comm.traffic();
  const MultiTaskModel::ShardedCounts& counts = shard.sharded_counts();
  const int64_t dense_per_step = counts.steps > 0 ? counts.dense_floats / counts.steps : 0;
  const auto predicted = predicted_sharded_bytes(counts, comm.rank(), comm.size(), shard.shape().dim, dense_per_step);
  std::vector<double> mine = {tables, peak_rss_bytes()};
  for (int k = 0; k < kTrafficKinds; ++k) mine.push_back(c.bytes[static_cast<size_t>(k)]);
  for (int k = 0; k < kTrafficKinds; ++k) mine.push_back(c.seconds[static_cast<size_t>(k)]);
  for (int k = 0; k < kTrafficKinds; ++k) mine.push_back(predicted[static_cast<size_t>(k)]);
  mine.push_back(trainer.profile().step_seconds);
  std::vector<double> all(mine.size() * static_cast<size_t>(comm.size()));
  comm.allgather(mine.data(), mine.size() * sizeof(double), all.data(), TrafficKind::kControl);
  const double steps = std::max<double>(1.0, static_cast<double>(trainer.state().global_step));
  nlohmann::json j;
  j["world_size"] = comm.size();
  j["ranks"] = nlohmann::json::array();
  for (int r = 0; r < comm.size(); ++r) {
    const double* v = all.data() + static_cast<size_t>(r) * mine.size();
    nlohmann::json rank = {{"rank", r},
                           {"table_and_optimizer_mb", v[0] / 1e6},
                           {"peak_rss_after_training_mb", v[1] / 1e6}};
    nlohmann::json sent, seconds, formula;
    double in_calls = 0.0;
    for (int k = 0; k < kTrafficKinds; ++k) {
      sent[to_string(static_cast<TrafficKind>(k))] = v[2 + k] / steps;
      seconds[to_string(static_cast<TrafficKind>(k))] = v[2 + kTrafficKinds + k];
      formula[to_string(static_cast<TrafficKind>(k))] = v[2 + 2 * kTrafficKinds + k] / steps;
      in_calls += v[2 + kTrafficKinds + k];
    }
    rank["bytes_sent_per_step"] = sent;
    rank["formula_bytes_per_step"] = formula;
    rank["communication_seconds"] = seconds;
    // The steps' wall time, and the part of it spent inside the collectives
    // (waiting for slower ranks included).
    const double step_seconds = v[2 + 3 * kTrafficKinds];
    rank["step_seconds"] = step_seconds;
    rank["communication_share"] = step_seconds > 0.0 ? in_calls / step_seconds : 0.0;
    j["ranks"].push_back(rank);
  }
  j["steps"] = trainer.state().global_step;
  return j;
}

std::pair<TrainedModel, RunResult> train_and_evaluate_input(const ExperimentConfig& config,
                                                            const TrainingInput& data,
                                                            const std::string& name,
                                                            const EpochCallback& on_epoch,
                                                            const Checkpointing* checkpointing,
                                                            const ProgressHooks* progress, Ranks ranks) {
  const auto train_size = data.train.size();
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
  data.index_interactions(tm);
  if (ranks.distributed()) {
    // The vocabularies, the split and the examples must be the same on every
    // rank (each built them from its own copy of the data): agreed once,
    // through their fingerprint.
    const std::vector<int64_t> prints =
        ranks.comm->allgather_value(static_cast<int64_t>(data.fingerprint), TrafficKind::kControl);
    for (int r = 1; r < ranks.size(); ++r)
      TANDEM_CHECK(prints[static_cast<size_t>(r)] == prints[0],
                   "rank " << r << "'s data differs from rank 0's (rank " << ranks.rank() << " read "
                           << data.source << "): every rank must read the same file or store, with the "
                              "same data settings");
  }
  TANDEM_CHECK(!ranks.distributed() || (shape.user_rows >= ranks.size() && shape.item_rows >= ranks.size()),
               shape.user_rows << " user and " << shape.item_rows << " item rows cannot be sharded over "
                               << ranks.size() << " ranks: every rank needs rows of each table");
  tm.model = std::make_unique<MultiTaskModel>(
      shape, std::min<int64_t>(config.batch_size, train_size),
      split_batches ? threads : 1, config.retrieval.mixed_negatives,
      TableShard{ranks.rank(), ranks.size()});
  tm.model->init(derive_seed(config.training_seed(), kInitStream));
  if (ranks.distributed()) tm.model->set_communicator(ranks.comm);
  tm.model->set_distinct_rows(config.distinct_rows);
  tm.model->set_softmax_precision(config.softmax_precision);
  // Example weights take the optioned softmax too: configured here, so that
  // no training step allocates it.
  if (config.retrieval.any() || data.train_weighted) {
    // logQ: each item row's share of the training interactions (rows never
    // trained on cannot be in a batch; they get half a count, to stay finite).
    std::vector<float> log_p(tm.item_train_counts.size());
    const double total = static_cast<double>(train_size);
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
  tc.batch_size = std::min<int64_t>(config.batch_size, train_size);
  tc.epochs = config.epochs;
  tc.shuffle = config.shuffle;
  tc.shuffle_seed = derive_seed(config.training_seed(), kShuffleStream);
  tc.sample_seed = derive_seed(config.training_seed(), kSampleStream);
  tc.workers = split_batches ? threads : 1;
  tc.pin_threads = config.pin_threads;
  // Rank 0 swaps its shard for the whole model after training; the shard
  // must outlive the trainer, which refers to it.
  std::unique_ptr<MultiTaskModel> shard_model;
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
    const int64_t steps = (train_size + tc.batch_size - 1) / tc.batch_size;
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
                  : fit_with_checkpoints(*checkpointing, config, data.fingerprint, data.source, data.train,
                                         *tm.model, trainer, epoch_done, step_done, ranks);
  for (const auto& e : r.history) r.train_seconds += e.seconds;
  r.profile = trainer.profile();
  r.traffic = estimate_step_traffic(traffic_shape(trainer, tc.batch_size));
  if (ranks.distributed()) r.distributed = rank_report(*tm.model, trainer, *ranks.comm);
  blas::set_threads(threads);  // evaluation's large GEMMs use the BLAS threads
  std::function<void(int64_t, int64_t)> eval_progress;
  if (progress != nullptr && progress->on_eval)
    eval_progress = [&](int64_t done, int64_t total) { progress->on_eval(name, done, total); };
  const SeenItems seen = config.exclude_seen ? seen_of_test_users(tm, data.test) : SeenItems{};
  // [evaluation] max_pairs: the first N test pairs only.
  const auto pairs = static_cast<size_t>(config.eval_max_pairs);
  std::optional<Examples> first;
  std::vector<float> first_ratings;
  if (pairs > 0 && pairs < data.test.size()) {
    first.emplace();
    first->users.assign(data.test.users.begin(), data.test.users.begin() + pairs);
    first->items.assign(data.test.items.begin(), data.test.items.begin() + pairs);
    first->labels.assign(data.test.labels.begin(), data.test.labels.begin() + pairs);
    if (!data.test.timestamps.empty())
      first->timestamps.assign(data.test.timestamps.begin(), data.test.timestamps.begin() + pairs);
    if (!data.test.weights.empty())
      first->weights.assign(data.test.weights.begin(), data.test.weights.begin() + pairs);
    first_ratings.assign(data.test_ratings.begin(), data.test_ratings.begin() + pairs);
  }
  const Examples& test = first ? *first : data.test;
  const std::vector<float>& test_ratings = first ? first_ratings : data.test_ratings;
  if (ranks.distributed()) {
    // Every rank scores the catalogue rows it holds; then the whole model
    // goes to rank 0, which saves it. The other ranks are done.
    r.eval = evaluate_sharded(*tm.model, config, data.catalogue, test, test_ratings,
                              ranks.rank() == 0 ? eval_progress : std::function<void(int64_t, int64_t)>{}, &seen);
    std::unique_ptr<MultiTaskModel> whole;
    if (ranks.rank() == 0) {
      whole = std::make_unique<MultiTaskModel>(shape, tm.model->max_batch(), 1, 0);
      whole->set_ranking_loss(ranking_loss_spec(config));
    }
    gather_shards(*tm.model, *ranks.comm, whole.get());
    if (ranks.rank() != 0) return {std::move(tm), std::move(r)};
    shard_model = std::move(tm.model);
    tm.model = std::move(whole);
  } else {
    r.eval = evaluate(*tm.model, config, data.catalogue, test, test_ratings, eval_progress, &seen);
  }
  tm.metrics = r.to_json();
  return {std::move(tm), std::move(r)};
}

}  // namespace

std::pair<TrainedModel, RunResult> train_and_evaluate(const ExperimentConfig& config,
                                                      const PreparedData& data,
                                                      const std::string& name,
                                                      const EpochCallback& on_epoch,
                                                      const Checkpointing* checkpointing,
                                                      const ProgressHooks* progress, Ranks ranks) {
  config.validate();
  check_training_resources(config, data);
  // On several ranks, each holds and trains on its strided part of the
  // examples; the batches (positions in the one order every rank draws) are
  // those one process would take.
  std::optional<ExamplesSource> whole;
  std::optional<Examples> part;
  std::optional<ShardedExamplesSource> sharded;
  if (ranks.distributed()) {
    part = take_shard(data.train, ranks.rank(), ranks.size());
    sharded.emplace(*part, static_cast<int64_t>(data.train.size()), ranks.rank(), ranks.size());
  } else {
    whole.emplace(data.train);
  }
  BatchSource& train = ranks.distributed() ? static_cast<BatchSource&>(*sharded) : *whole;
  const TrainingInput input{data.users,
                            data.items,
                            data.catalogue,
                            data.names,
                            data.towers,
                            data.coverage,
                            data.source,
                            train,
                            !data.train.weights.empty(),
                            checkpointing == nullptr && !ranks.distributed() ? 0 : data_fingerprint(data),
                            [&](TrainedModel& tm) { tm.set_training_interactions(data.train); },
                            data.test,
                            data.test_ratings};
  return train_and_evaluate_input(config, input, name, on_epoch, checkpointing, progress, ranks);
}

std::pair<TrainedModel, RunResult> train_and_evaluate_store(const ExperimentConfig& config,
                                                            const PreparedStore& store,
                                                            const std::string& name,
                                                            const EpochCallback& on_epoch,
                                                            const Checkpointing* checkpointing,
                                                            const ProgressHooks* progress, Ranks ranks) {
  config.validate();
  TANDEM_CHECK(!config.side_features.enabled(),
               "training from a store (--prepared) does not support side features yet");
  const StreamShape shape{config.stream_block_rows, config.stream_window_blocks};
  const int64_t eval_pairs =
      config.eval_max_pairs > 0 ? std::min(config.eval_max_pairs, store.test.rows) : store.test.rows;
  check_store_training_resources(
      config, static_cast<int64_t>(store.catalogue.size()),
      estimate_store_training_memory(config, store.users.rows(), store.items.rows(), store.train.rows,
                                     stream_buffer_bytes(shape, store.train.timestamps, store.train.weights),
                                     eval_pairs, store.has_seen_index ? &store.seen_offsets : nullptr));
  Examples test;
  std::vector<float> test_ratings;
  read_store_test(store, eval_pairs, test, test_ratings);
  StoreBatchSource train(store, shape, ranks.rank(), ranks.size());
  const IdNames names;
  const TowerSpecs towers;
  const TrainingInput input{store.users,
                            store.items,
                            store.catalogue,
                            names,
                            towers,
                            store.coverage,
                            store.source,
                            train,
                            store.train.weights,
                            store.files.fingerprint(),
                            [&](TrainedModel& tm) { index_store_interactions(store, tm); },
                            test,
                            test_ratings};
  return train_and_evaluate_input(config, input, name, on_epoch, checkpointing, progress, ranks);
}

}  // namespace tandem
