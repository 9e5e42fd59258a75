// Metrics on a test set: the tutorials' two (factorized top-K accuracy over
// the whole catalogue, exact and blocked; RMSE of the rating head), per-user
// ranking metrics over the same catalogue (Recall/NDCG/MAP@K, MRR; see
// user_ranking.h) and the AUC of the rating head's predictions against a
// binary label (rating >= config.positive_threshold).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/config/experiment_config.h"
#include "tandem/prepare/prepared_data.h"
#include "tandem/evaluate/user_ranking.h"
#include "tandem/evaluate/metrics.h"
#include "tandem/evaluate/topk.h"
#include "tandem/model/multitask_model.h"

namespace tandem {

struct EvalResult {
  int64_t k = 0;
  double topk_accuracy = 0.0;  // at k
  std::map<int64_t, double> accuracy_at;  // at 1, 5, 10, 50, 100 (and k)
  // On the label scale the model was trained on; NaN (JSON null) when the
  // ranking loss is not mse, whose head predicts no label (ranking_output.h).
  double rmse = 0.0;
  double topk_weight = 0.0;   // number of test pairs counted by the top-K metric
  int64_t evaluated = 0;
  double seconds = 0.0;  // the whole evaluation (JSON eval_seconds)
  // Its phases (JSON eval_phase_seconds; zeros in results written before):
  // towers, scoring, ranking, metrics (see EvalPhaseTimes).
  EvalPhaseTimes phase_seconds;
  // The retrieval catalogue: distinct item rows scored, and entries in the
  // top-K accuracy's candidate set (more when items share a row: TFRS's
  // titles). 0 in results written before they were reported.
  int64_t catalogue_items = 0;
  int64_t candidates = 0;

  // Whether each user's training items were removed from the candidates
  // (for the top-K accuracy above and the ranking metrics below).
  bool exclude_seen = false;
  // Per-user ranking metrics, keyed by K (config.metrics_at); MRR over the
  // full ranking; means over `ranking_users` (users with a relevant item).
  // Empty / NaN when not computed (results written before they existed).
  std::map<int64_t, double> recall_at, ndcg_at, map_at;
  double mrr = std::numeric_limits<double>::quiet_NaN();
  int64_t ranking_users = 0;
  // AUC of the rating predictions for the label rating >= auc_threshold
  // (raw stars); NaN when the test pairs hold no positive or no negative, or
  // a prediction is NaN.
  double auc = std::numeric_limits<double>::quiet_NaN();
  double auc_threshold = 0.0;
  int64_t auc_positives = 0, auc_negatives = 0;
  // Each extra task's metrics on the test pairs, in task order (JSON
  // "tasks": {name: {auc, log_loss, accuracy, positive_rate}}; absent
  // without extra tasks).
  std::vector<std::pair<std::string, BinaryMetrics>> tasks;

  nlohmann::json to_json() const;
  // Reads the fields to_json writes (extra keys are ignored, so a RunResult's
  // flat JSON parses too; the ranking metrics and AUC are optional, so older
  // results parse); errors name the field.
  static EvalResult from_json(const nlohmann::json& j);
};

// The top-K accuracy's candidates (RetrievalCatalogue::candidates()) as a
// matrix, and each item row's index among them. The matrix is the
// catalogue's own `vectors` ([size, dim], which must outlive it), or, where
// the candidates repeat rows (items sharing one), a copy in candidate order.
struct CandidateSet {
  std::vector<float> repeated;  // the copy, when one is needed
  CandidateMatrix matrix;
  std::vector<int64_t> index;
};
CandidateSet candidate_set(const RetrievalCatalogue& catalogue, const std::vector<float>& vectors,
                           int64_t dim, int64_t table_rows);

// Top-K accuracy at k = 1, 5, 10, 50, 100 and config.k from the positives'
// ranks, weighted as the preset asks (Keras-RS: 5-star pairs only).
void fill_accuracy(EvalResult& r, const std::vector<int64_t>& ranks, const ExperimentConfig& config,
                   const std::vector<float>& test_ratings);

// The ranking metrics of a per-user ranking (recall_at, ndcg_at, map_at, mrr,
// ranking_users) and config.exclude_seen.
void fill_ranking_metrics(EvalResult& r, const UserRanking& ranking, const ExperimentConfig& config);

// AUC of `scores` (one per test pair) against test_ratings[i] >= threshold.
// No positive or no negative, or a NaN score: auc stays NaN (the counts say
// why). Errors: sizes differ.
void fill_auc(EvalResult& r, const std::vector<float>& scores, const std::vector<float>& test_ratings,
              float threshold);

// The checks every evaluation makes of its inputs (a test pair, ratings for
// each, seen items where exclude_seen asks for them), and its result with
// the sizes filled in: k, pairs evaluated, catalogue items, candidates.
EvalResult start_evaluation(const ExperimentConfig& config, const RetrievalCatalogue& catalogue,
                            const Examples& test, const std::vector<float>& test_ratings, const SeenItems* seen);
// From the rating head's outputs on the test pairs: RMSE (mse heads only) and
// AUC; then each extra task's metrics from `predict_extra(e, out)`, which
// writes task e's outputs for the test pairs.
void fill_head_metrics(EvalResult& r, const MultiTaskModel& model, const ExperimentConfig& config,
                       const std::vector<float>& rating_outputs, const Examples& test,
                       const std::vector<float>& test_ratings,
                       const std::function<void(int e, float* out)>& predict_extra);
// `on_progress` (may be empty) sees (pairs ranked, total) as the ranking
// advances. The ranking runs on blas::threads() workers (rank_targets), in
// one scoring pass where the per-user ranking also gives the top-K
// accuracy's ranks (see evaluation.cc), two otherwise.
// With config.exclude_seen, `seen` must hold the training items of every
// test user (an error otherwise); it is not read when exclude_seen is off.
EvalResult evaluate(const MultiTaskModel& model, const ExperimentConfig& config,
                    const RetrievalCatalogue& catalogue, const Examples& test,
                    const std::vector<float>& test_ratings,
                    const std::function<void(int64_t done, int64_t total)>& on_progress = {},
                    const SeenItems* seen = nullptr);

}  // namespace tandem
