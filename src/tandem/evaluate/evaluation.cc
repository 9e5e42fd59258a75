#include "tandem/evaluate/evaluation.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "tandem/evaluate/ranking_output.h"
#include "tandem/core/blas.h"
#include "tandem/core/error.h"
#include "tandem/evaluate/metrics.h"
#include "tandem/evaluate/ranking_metrics.h"
#include "tandem/evaluate/tiled_ranking.h"
#include "tandem/evaluate/topk.h"

namespace tandem {

namespace {

nlohmann::json keyed_by_k(const std::map<int64_t, double>& m) {
  nlohmann::json at = nlohmann::json::object();
  for (const auto& [kk, v] : m) at[std::to_string(kk)] = v;
  return at;
}

std::map<int64_t, double> read_keyed_by_k(const nlohmann::json& j, const char* key) {
  std::map<int64_t, double> m;
  if (!j.contains(key)) return m;
  for (const auto& [kk, v] : j.at(key).items()) {
    try {
      m[std::stoll(kk)] = v.is_null() ? std::nan("") : v.get<double>();
    } catch (const std::logic_error&) {  // std::stoll on a key that is no number
      TANDEM_THROW("bad evaluation result: " << key << " key '" << kk << "' is not a number");
    }
  }
  return m;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// NaN is written as null (JSON has no NaN) and read back as NaN.
double number_or_nan(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j.at(key).is_null()) return std::nan("");
  return j.at(key).get<double>();
}

}  // namespace

CandidateSet candidate_set(const RetrievalCatalogue& catalogue, const std::vector<float>& vectors,
                           int64_t dim, int64_t table_rows) {
  TANDEM_CHECK(vectors.size() == catalogue.size() * static_cast<size_t>(dim),
               "evaluation: " << vectors.size() << " values for " << catalogue.size()
                              << " catalogue vectors of dimension " << dim);
  CandidateSet out;
  out.index = catalogue.index_of_rows(table_rows);
  if (catalogue.candidate_rows.empty()) {
    out.matrix = {vectors.data(), static_cast<int64_t>(catalogue.size()), dim};
    return out;
  }
  const auto& rows = catalogue.candidate_rows;
  out.repeated.resize(rows.size() * static_cast<size_t>(dim));
  for (size_t i = 0; i < rows.size(); ++i) {
    const int64_t c = out.index[static_cast<size_t>(rows[i])];
    TANDEM_CHECK(c >= 0, "evaluation: candidate row " << rows[i] << " is not in the catalogue");
    std::copy_n(vectors.data() + c * dim, dim, out.repeated.data() + static_cast<int64_t>(i) * dim);
  }
  out.matrix = {out.repeated.data(), static_cast<int64_t>(rows.size()), dim};
  out.index = index_of_rows(rows, table_rows);
  return out;
}

nlohmann::json EvalResult::to_json() const {
  nlohmann::json j = {{"k", k},
                      {"topk_accuracy", topk_accuracy},
                      {"accuracy_at", keyed_by_k(accuracy_at)},
                      {"rmse", std::isnan(rmse) ? nlohmann::json(nullptr) : nlohmann::json(rmse)},
                      {"topk_pairs", topk_weight},
                      {"evaluated_pairs", evaluated},
                      {"catalogue_items", catalogue_items},
                      {"candidates", candidates},
                      {"eval_seconds", seconds},
                      {"exclude_seen", exclude_seen},
                      {"recall_at", keyed_by_k(recall_at)},
                      {"ndcg_at", keyed_by_k(ndcg_at)},
                      {"map_at", keyed_by_k(map_at)},
                      {"ranking_users", ranking_users},
                      {"auc_threshold", auc_threshold},
                      {"auc_positives", auc_positives},
                      {"auc_negatives", auc_negatives}};
  j["eval_phase_seconds"] = {{"towers", phase_seconds.towers},
                             {"scoring", phase_seconds.scoring},
                             {"ranking", phase_seconds.ranking},
                             {"metrics", phase_seconds.metrics}};
  j["mrr"] = std::isnan(mrr) ? nlohmann::json(nullptr) : nlohmann::json(mrr);
  j["auc"] = std::isnan(auc) ? nlohmann::json(nullptr) : nlohmann::json(auc);
  if (!tasks.empty()) {
    nlohmann::json t = nlohmann::json::object();
    const auto num = [](double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); };
    for (const auto& [name, m] : tasks)
      t[name] = {{"auc", num(m.auc)},
                 {"log_loss", num(m.log_loss)},
                 {"accuracy", m.accuracy},
                 {"positive_rate", m.positive_rate},
                 {"pairs", m.count}};
    j["tasks"] = t;
  }
  return j;
}

void fill_ranking_metrics(EvalResult& r, const UserRanking& ranking, const ExperimentConfig& config) {
  r.exclude_seen = config.exclude_seen;
  r.recall_at.clear();
  r.ndcg_at.clear();
  r.map_at.clear();
  r.mrr = std::nan("");
  r.ranking_users = 0;
  for (const RankingMetrics& m : ranking.at) {
    r.recall_at[m.k] = m.recall;
    r.ndcg_at[m.k] = m.ndcg;
    r.map_at[m.k] = m.map;
    r.mrr = m.mrr;
    r.ranking_users = m.users;
  }
}

void fill_auc(EvalResult& r, const std::vector<float>& scores, const std::vector<float>& test_ratings,
              float threshold) {
  TANDEM_CHECK(scores.size() == test_ratings.size(),
               "evaluation: " << scores.size() << " scores for " << test_ratings.size() << " test ratings (AUC)");
  std::vector<int> labels(scores.size());
  bool nan = false;
  r.auc_positives = r.auc_negatives = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    labels[i] = test_ratings[i] >= threshold ? 1 : 0;
    (labels[i] ? r.auc_positives : r.auc_negatives) += 1;
    nan = nan || std::isnan(scores[i]);
  }
  r.auc_threshold = threshold;
  r.auc = nan || r.auc_positives == 0 || r.auc_negatives == 0 ? std::nan("") : auc(scores, labels);
}

void fill_accuracy(EvalResult& r, const std::vector<int64_t>& ranks, const ExperimentConfig& config,
                   const std::vector<float>& test_ratings) {
  const auto n = ranks.size();
  std::vector<float> weights(n, 1.0f);
  if (config.topk_min_rating) {
    TANDEM_CHECK(test_ratings.size() == n, "evaluation: " << test_ratings.size()
                                               << " test ratings for " << n << " ranks");
    for (size_t i = 0; i < n; ++i) weights[i] = test_ratings[i] >= *config.topk_min_rating ? 1.0f : 0.0f;
  }
  r.k = config.k;
  r.topk_weight = 0.0;
  for (float w : weights) r.topk_weight += w;
  for (int64_t kk : config.accuracy_at) r.accuracy_at[kk] = topk_accuracy(ranks, kk, &weights);
  r.accuracy_at[config.k] = topk_accuracy(ranks, config.k, &weights);
  r.topk_accuracy = r.accuracy_at[config.k];
}

EvalResult EvalResult::from_json(const nlohmann::json& j) {
  try {
    EvalResult r;
    r.k = j.at("k").get<int64_t>();
    r.topk_accuracy = j.at("topk_accuracy").get<double>();
    for (const auto& [kk, v] : j.at("accuracy_at").items()) r.accuracy_at[std::stoll(kk)] = v.get<double>();
    r.rmse = j.at("rmse").is_null() ? std::numeric_limits<double>::quiet_NaN()
                                    : j.at("rmse").get<double>();
    r.topk_weight = j.value("topk_pairs", 0.0);
    r.evaluated = j.value("evaluated_pairs", int64_t{0});
    r.catalogue_items = j.value("catalogue_items", int64_t{0});
    r.candidates = j.value("candidates", int64_t{0});
    r.seconds = j.value("eval_seconds", 0.0);
    if (j.contains("eval_phase_seconds")) {
      const auto& p = j.at("eval_phase_seconds");
      r.phase_seconds = {p.value("towers", 0.0), p.value("scoring", 0.0), p.value("ranking", 0.0),
                         p.value("metrics", 0.0)};
    }
    r.exclude_seen = j.value("exclude_seen", false);
    r.recall_at = read_keyed_by_k(j, "recall_at");
    r.ndcg_at = read_keyed_by_k(j, "ndcg_at");
    r.map_at = read_keyed_by_k(j, "map_at");
    r.mrr = number_or_nan(j, "mrr");
    r.ranking_users = j.value("ranking_users", int64_t{0});
    r.auc = number_or_nan(j, "auc");
    if (j.contains("tasks")) {
      for (const auto& [name, t] : j.at("tasks").items()) {
        BinaryMetrics m;
        m.auc = number_or_nan(t, "auc");
        m.log_loss = number_or_nan(t, "log_loss");
        m.accuracy = t.at("accuracy").get<double>();
        m.positive_rate = t.at("positive_rate").get<double>();
        m.count = t.value("pairs", int64_t{0});
        r.tasks.emplace_back(name, m);
      }
    }
    r.auc_threshold = j.value("auc_threshold", 0.0);
    r.auc_positives = j.value("auc_positives", int64_t{0});
    r.auc_negatives = j.value("auc_negatives", int64_t{0});
    return r;
  } catch (const nlohmann::json::exception& e) {
    TANDEM_THROW("bad evaluation result: " << e.what());
  } catch (const std::logic_error& e) {  // std::stoll on a key that is no number
    TANDEM_THROW("bad evaluation result: accuracy_at key is not a number (" << e.what() << ")");
  }
}

EvalResult start_evaluation(const ExperimentConfig& config, const RetrievalCatalogue& catalogue,
                            const Examples& test, const std::vector<float>& test_ratings, const SeenItems* seen) {
  const int64_t n = static_cast<int64_t>(test.size());
  TANDEM_CHECK(n > 0, "no test pairs to evaluate (every test id was unknown, or the test set is empty)");
  TANDEM_CHECK(!config.exclude_seen || seen != nullptr,
               "evaluation: exclude_seen needs the training items of each user, and none were given");
  TANDEM_CHECK(test_ratings.size() == test.size(),
               "evaluation: " << test_ratings.size() << " test ratings for " << n << " test pairs");
  EvalResult r;
  r.k = config.k;
  r.evaluated = n;
  r.catalogue_items = static_cast<int64_t>(catalogue.size());
  r.candidates = static_cast<int64_t>(catalogue.candidates().size());
  return r;
}

void fill_head_metrics(EvalResult& r, const MultiTaskModel& model, const ExperimentConfig& config,
                       const std::vector<float>& rating_outputs, const Examples& test,
                       const std::vector<float>& test_ratings,
                       const std::function<void(int e, float* out)>& predict_extra) {
  const auto n = static_cast<int64_t>(test.size());
  // RMSE compares predicted labels with labels: only a head trained with MSE
  // predicts one (a logit or a ranking score has another scale).
  r.rmse = ranking_output(config) == RankingOutput::kRating ? rmse(rating_outputs, test.labels)
                                                            : std::numeric_limits<double>::quiet_NaN();
  // AUC depends only on the order of the predictions, so it means the same
  // whatever label scale or loss the head was trained with; the label is
  // always the raw rating against the threshold.
  fill_auc(r, rating_outputs, test_ratings, config.positive_threshold);
  // Each extra task against its own label (raw rating >= its threshold).
  std::vector<float> pred(static_cast<size_t>(n));
  for (int e = 0; e < model.extra_task_count(); ++e) {
    const ExtraTaskSpec& spec = model.shape().extra_tasks[static_cast<size_t>(e)];
    predict_extra(e, pred.data());
    std::vector<int> labels(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      labels[static_cast<size_t>(i)] = test_ratings[static_cast<size_t>(i)] >= spec.positive_threshold ? 1 : 0;
    if (n > 0) r.tasks.emplace_back(spec.name, binary_metrics(pred, labels));
  }
}

EvalResult evaluate(const MultiTaskModel& model, const ExperimentConfig& config,
                    const RetrievalCatalogue& catalogue, const Examples& test,
                    const std::vector<float>& test_ratings,
                    const std::function<void(int64_t done, int64_t total)>& on_progress,
                    const SeenItems* seen) {
  const auto start = std::chrono::steady_clock::now();
  EvalResult r = start_evaluation(config, catalogue, test, test_ratings, seen);
  const int64_t n = r.evaluated;
  const int64_t d = model.task_dim();
  // The evaluation's threads: what the caller gave the BLAS (apply_threads,
  // train_and_evaluate). The ranking kernel splits the tiles between them
  // and runs the BLAS single-threaded inside.
  const int threads = std::max(blas::threads(), 1);
  EvalPhaseTimes& times = r.phase_seconds;

  // Each test pair's own timestamp, for a model with a timestamp feature
  // (the per-user rankings take each user's most recent bucket).
  const bool timed = test.timestamps.size() == test.size();
  // Candidates: the catalogue's item vectors; each test item's index in it.
  auto phase_start = std::chrono::steady_clock::now();
  std::vector<float> cand(catalogue.size() * static_cast<size_t>(d)), tower_scratch;
  model.item_vectors(Task::kRetrieval, catalogue.rows.data(), static_cast<int64_t>(catalogue.size()),
                     cand.data(), tower_scratch);
  const std::vector<int64_t> index = catalogue.index_of_rows(model.shape().item_rows);
  const CandidateMatrix cm{cand.data(), static_cast<int64_t>(catalogue.size()), d};
  times.towers += seconds_since(phase_start);

  // The tutorials' protocol (seen items kept) ranks each test pair with its
  // own query against the top-K accuracy's candidate set. The per-user
  // ranking gives the same ranks, so one scoring pass serves both, when
  //  - the user tower has no timestamp feature (or the pairs no
  //    timestamps): a pair's query is then its user's query (user_vectors
  //    reads only the user row, as the per-user gather below);
  //  - the candidate set repeats no row: candidate_set() is then the
  //    catalogue itself, in the same order, with the same index;
  //  - nothing is excluded (exclude_seen off);
  // and both count the candidates scoring strictly higher than the pair's
  // item (NaN: never a hit; an item outside the catalogue: rank = count).
  // With exclude_seen the per-user ranks are the protocol's ranks anyway.
  const bool one_pass =
      config.exclude_seen || (!(timed && model.has_per_example_feature()) && catalogue.candidate_rows.empty());

  // One ranking per test user: the ranking metrics, and each pair's rank.
  const QueryGather gather = [&](const int32_t* rows, int64_t m, float* out) {
    std::vector<float> scratch;
    model.user_vectors(Task::kRetrieval, rows, m, out, scratch);
  };
  const UserRanking ranking =
      rank_test_users(gather, cm, index, test, test_ratings, config, config.exclude_seen ? seen : nullptr,
                      one_pass ? on_progress : std::function<void(int64_t, int64_t)>{}, threads, &times);
  fill_ranking_metrics(r, ranking, config);

  if (one_pass) {
    fill_accuracy(r, ranking.pair_ranks, config, test_ratings);
  } else {
    // One query per test pair (its own timestamp), against the candidate
    // set, which has a row twice where two items share it (TFRS keys movies
    // by title): a copy of the catalogue's vectors with those repeats.
    phase_start = std::chrono::steady_clock::now();
    const CandidateSet all = candidate_set(catalogue, cand, d, model.shape().item_rows);
    const int64_t chunk = config.eval_batch_size;
    std::vector<float> queries(static_cast<size_t>(n * d));
    for (int64_t s = 0; s < n; s += chunk) {
      const int64_t m = std::min(chunk, n - s);
      model.user_vectors(Task::kRetrieval, test.users.data() + s, m, queries.data() + s * d, tower_scratch,
                         timed ? test.timestamps.data() + s : nullptr);
    }
    PerQueryLists positives;
    positives.offsets.reserve(static_cast<size_t>(n) + 1);
    positives.items.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t p = all.index[static_cast<size_t>(test.items[static_cast<size_t>(i)])];
      positives.add(&p, &p + (p >= 0 ? 1 : 0));  // none: rank = count, never a hit
    }
    times.towers += seconds_since(phase_start);
    phase_start = std::chrono::steady_clock::now();
    TargetRankOptions options;
    options.threads = threads;
    if (on_progress)
      options.on_progress = [&](int64_t done, int64_t total) {
        on_progress(std::min(n, n * done / std::max<int64_t>(total, 1)), n);
      };
    TargetRankTimes kernel_times;
    const std::vector<int64_t> ranked = rank_targets(queries.data(), all.matrix, positives, nullptr, options,
                                                     &kernel_times);
    times.add_kernel(kernel_times, seconds_since(phase_start));
    std::vector<int64_t> ranks(static_cast<size_t>(n), all.matrix.count);
    for (int64_t i = 0; i < n; ++i)
      if (positives.offsets[static_cast<size_t>(i) + 1] > positives.offsets[static_cast<size_t>(i)])
        ranks[static_cast<size_t>(i)] = ranked[static_cast<size_t>(positives.offsets[static_cast<size_t>(i)])];
    if (on_progress) on_progress(n, n);
    fill_accuracy(r, ranks, config, test_ratings);
  }

  phase_start = std::chrono::steady_clock::now();
  std::vector<float> pred(static_cast<size_t>(n)), scratch;
  model.predict_ratings(test.users.data(), test.items.data(), n, pred.data(), scratch,
                        timed ? test.timestamps.data() : nullptr);
  fill_head_metrics(r, model, config, pred, test, test_ratings, [&](int e, float* out) {
    model.predict_extra(e, test.users.data(), test.items.data(), n, out, scratch,
                        timed ? test.timestamps.data() : nullptr);
  });
  times.metrics += seconds_since(phase_start);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace tandem
