#include "tandem/app/evaluation.h"

#include <chrono>
#include <stdexcept>
#include <string>

#include "tandem/core/error.h"
#include "tandem/evaluate/metrics.h"
#include "tandem/evaluate/topk.h"

namespace tandem {

nlohmann::json EvalResult::to_json() const {
  nlohmann::json at = nlohmann::json::object();
  for (const auto& [kk, v] : accuracy_at) at[std::to_string(kk)] = v;
  return {{"k", k},
          {"topk_accuracy", topk_accuracy},
          {"accuracy_at", at},
          {"rmse", rmse},
          {"topk_pairs", topk_weight},
          {"evaluated_pairs", evaluated},
          {"eval_seconds", seconds}};
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
    r.rmse = j.at("rmse").get<double>();
    r.topk_weight = j.value("topk_pairs", 0.0);
    r.evaluated = j.value("evaluated_pairs", int64_t{0});
    r.seconds = j.value("eval_seconds", 0.0);
    return r;
  } catch (const nlohmann::json::exception& e) {
    TANDEM_THROW("bad evaluation result: " << e.what());
  } catch (const std::logic_error& e) {  // std::stoll on a key that is no number
    TANDEM_THROW("bad evaluation result: accuracy_at key is not a number (" << e.what() << ")");
  }
}

EvalResult evaluate(const MultiTaskModel& model, const ExperimentConfig& config,
                    const RetrievalCatalogue& catalogue, const Examples& test,
                    const std::vector<float>& test_ratings,
                    const std::function<void(int64_t done, int64_t total)>& on_progress) {
  const auto start = std::chrono::steady_clock::now();
  const int64_t n = static_cast<int64_t>(test.size());
  TANDEM_CHECK(n > 0, "no test pairs to evaluate (every test id was unknown, or the test set is empty)");
  const int64_t d = model.task_dim();
  EvalResult r;
  r.k = config.k;
  r.evaluated = n;

  // Candidates: the catalogue's item embeddings; each test item's index in it.
  std::vector<float> cand(catalogue.size() * static_cast<size_t>(d)), tower_scratch;
  model.item_vectors(Task::kRetrieval, catalogue.rows.data(), static_cast<int64_t>(catalogue.size()),
                     cand.data(), tower_scratch);
  const std::vector<int64_t> index = catalogue.index_of_rows(model.shape().item_rows);

  // Top-K in chunks of the evaluation batch: queries are gathered per chunk.
  std::vector<int64_t> ranks(static_cast<size_t>(n));
  const int64_t chunk = config.eval_batch_size;
  std::vector<float> queries(static_cast<size_t>(std::min(chunk, n) * d));
  std::vector<int64_t> positives(static_cast<size_t>(std::min(chunk, n)));
  const CandidateMatrix cm{cand.data(), static_cast<int64_t>(catalogue.size()), d};
  for (int64_t s = 0; s < n; s += chunk) {
    const int64_t m = std::min(chunk, n - s);
    model.user_vectors(Task::kRetrieval, test.users.data() + s, m, queries.data(), tower_scratch);
    for (int64_t i = 0; i < m; ++i) positives[i] = index[static_cast<size_t>(test.items[s + i])];
    const auto rk = positive_ranks(queries.data(), m, cm, positives.data());
    std::copy(rk.begin(), rk.end(), ranks.begin() + s);
    if (on_progress) on_progress(s + m, n);
  }
  fill_accuracy(r, ranks, config, test_ratings);

  std::vector<float> pred(static_cast<size_t>(n)), scratch;
  model.predict_ratings(test.users.data(), test.items.data(), n, pred.data(), scratch);
  r.rmse = rmse(pred, test.labels);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace tandem
