#include "tandem/app/experiment.h"
#include "tandem/app/resource_guard.h"

#include "tandem/core/blas.h"
#include "tandem/core/error.h"
#include "tandem/core/random.h"

namespace tandem {

namespace {
constexpr uint64_t kInitStream = 101, kShuffleStream = 102;
}  // namespace

nlohmann::json epochs_to_json(const std::vector<EpochStats>& h) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& e : h) {
    a.push_back({{"epoch", e.epoch},
                 {"steps", e.steps},
                 {"ranking_loss", e.ranking_loss},
                 {"retrieval_loss", e.retrieval_loss},
                 {"total_loss", e.total_loss},
                 {"score_entries", e.score_entries},
                 {"seconds", e.seconds}});
  }
  return a;
}

std::vector<EpochStats> epochs_from_json(const nlohmann::json& a) {
  TANDEM_CHECK(a.is_array(), "per-epoch history must be an array");
  std::vector<EpochStats> h;
  try {
    for (const auto& e : a) {
      EpochStats s;
      s.epoch = e.at("epoch").get<int>();
      s.steps = e.at("steps").get<int64_t>();
      s.ranking_loss = e.at("ranking_loss").get<double>();
      s.retrieval_loss = e.at("retrieval_loss").get<double>();
      s.total_loss = e.at("total_loss").get<double>();
      s.score_entries = e.value("score_entries", 0.0);
      s.seconds = e.at("seconds").get<double>();
      h.push_back(s);
    }
  } catch (const nlohmann::json::exception& ex) {
    TANDEM_THROW("bad per-epoch history: " << ex.what());
  }
  return h;
}

nlohmann::json RunResult::to_json() const {
  nlohmann::json j = eval.to_json();
  j["model"] = model;
  j["preset"] = config.preset;
  j["seed"] = config.seed;
  j["ranking_weight"] = config.weights.ranking;
  j["retrieval_weight"] = config.weights.retrieval;
  j["train_seconds"] = train_seconds;
  j["epochs"] = epochs_to_json(history);
  j["test"] = coverage.to_json();
  return j;
}

std::vector<Variant> tutorial_variants() {
  return {{"rating", {1.0f, 0.0f}}, {"retrieval", {0.0f, 1.0f}}, {"joint", {1.0f, 1.0f}}};
}

void apply_threads(const ExperimentConfig& config) { blas::set_threads(effective_threads(config)); }

std::pair<TrainedModel, RunResult> train_and_evaluate(const ExperimentConfig& config,
                                                      const PreparedData& data,
                                                      const std::string& name,
                                                      const EpochCallback& on_epoch) {
  config.validate();
  check_training_resources(config, data);
  const int threads = effective_threads(config);
  const bool split_batches = config.parallelism == Parallelism::kBatch && threads > 1;
  // Batch splitting: each worker calls a single-threaded BLAS. Otherwise the
  // BLAS gets the threads.
  blas::set_threads(split_batches ? 1 : threads);
  ModelShape shape;
  shape.user_rows = data.users.rows();
  shape.item_rows = data.items.rows();
  shape.dim = config.embedding_dim;
  shape.hidden = config.layer_sizes;

  TrainedModel tm;
  tm.config = config;
  tm.users = data.users;
  tm.items = data.items;
  tm.catalogue = data.catalogue;
  tm.set_training_interactions(data.train);
  tm.model = std::make_unique<MultiTaskModel>(
      shape, std::min<int64_t>(config.batch_size, static_cast<int64_t>(data.train.size())),
      split_batches ? threads : 1);
  tm.model->init(derive_seed(config.seed, kInitStream));
  tm.model->set_distinct_rows(config.distinct_rows);

  TrainConfig tc;
  tc.adagrad = config.adagrad;
  tc.weights = config.weights;
  tc.batch_size = std::min<int64_t>(config.batch_size, static_cast<int64_t>(data.train.size()));
  tc.epochs = config.epochs;
  tc.reshuffle_each_epoch = config.reshuffle_each_epoch;
  tc.shuffle_seed = derive_seed(config.seed, kShuffleStream);
  tc.workers = split_batches ? threads : 1;
  Trainer trainer(*tm.model, tc);

  RunResult r;
  r.model = name;
  r.config = config;
  r.coverage = data.coverage;
  r.history = trainer.fit(data.train, [&](const EpochStats& e) {
    if (on_epoch) on_epoch(name, e);
  });
  for (const auto& e : r.history) r.train_seconds += e.seconds;
  blas::set_threads(threads);  // evaluation's large GEMMs use the BLAS threads
  r.eval = evaluate(*tm.model, config, data.catalogue, data.test, data.test_ratings);
  tm.metrics = r.to_json();
  return {std::move(tm), std::move(r)};
}

}  // namespace tandem
