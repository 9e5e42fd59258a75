// The per-user evaluation protocol: each test user ranks the whole catalogue
// once (optionally without the items they rated in training), and from that
// one ranking come both the rank of every test pair (top-K accuracy) and the
// user-level ranking metrics (Recall/NDCG/MAP@K, MRR). Shared by the model's
// evaluation and the most-popular baseline, so both follow one protocol.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "tandem/config/experiment_config.h"
#include "tandem/data/examples.h"
#include "tandem/evaluate/ranking_metrics.h"
#include "tandem/evaluate/tiled_ranking.h"
#include "tandem/evaluate/topk.h"

namespace tandem {

// The items each user-table row rated in training (sorted, distinct):
// items[offsets[u] .. offsets[u + 1]). TrainedModel stores the same two
// arrays (seen_offsets, seen_items).
struct SeenItems {
  std::vector<int64_t> offsets;  // user rows + 1 entries
  std::vector<int32_t> items;    // item-table rows
};

// From training examples; errors name a user row outside [0, user_rows).
SeenItems seen_items_from(const Examples& train, int64_t user_rows);

// Writes the query vectors ([n, dim], row-major) of n user-table rows.
using QueryGather = std::function<void(const int32_t* user_rows, int64_t n, float* out)>;

struct UserRanking {
  // Per test pair (test order): candidates of its user that score strictly
  // higher than its item, counting only candidates not excluded; an item
  // outside the catalogue gets the catalogue size (never a hit), as
  // positive_ranks does.
  std::vector<int64_t> pair_ranks;
  // Per config.metrics_at value (sorted, distinct): Recall/NDCG/MAP at it,
  // and MRR (the same in each), over users with at least one relevant item.
  std::vector<RankingMetrics> at;
};

// Wall seconds of an evaluation's phases: the towers (user and item vectors),
// scoring (the GEMMs), ranking (rank counting) and metrics (RMSE, AUC, the
// tasks). Scoring and ranking are interleaved tile by tile in the fused
// kernel: its wall time is split between them in the proportion of its
// threads' time in sgemm and in counting.
struct EvalPhaseTimes {
  double towers = 0.0, scoring = 0.0, ranking = 0.0, metrics = 0.0;
  void add_kernel(const TargetRankTimes& t, double wall) {
    const double busy = t.scoring + t.ranking;
    const double share = busy > 0.0 ? t.scoring / busy : 0.0;
    scoring += wall * share;
    ranking += wall * (1.0 - share);
  }
};

// Ranks every test user's catalogue. `candidates` are the catalogue's
// vectors; catalogue_index[item row] is the row's catalogue index or -1.
// A user's relevant items: the distinct items of their test pairs (only
// pairs rated >= config.topk_min_rating when that is set, as for top-K
// accuracy); a relevant item outside the catalogue is never retrieved.
// With `seen` (non-null), each user's training items are removed from the
// candidates, except items that are also among that user's test items (a
// pair in both splits stays rankable). Users are processed in chunks of
// config.eval_batch_size for the query tower, then the whole catalogue is
// ranked for all of them in one pass of rank_targets (tiled_ranking.h) on
// `threads` workers; `on_progress` (may be empty) sees (test pairs ranked,
// total) as it advances; `times` (may be null) gets the phases' seconds
// added.
// Errors: sizes that disagree (test, ratings, seen lists, catalogue_index),
// rows outside the tables.
// What ranks the targets (rank_targets' contract): by default rank_targets
// over `candidates`; a model sharded over ranks passes its own
// (rank_targets_sharded), and `candidates` then only gives the count and
// dimension.
using TargetRanker = std::function<std::vector<int64_t>(const float* queries, const PerQueryLists& targets,
                                                        const PerQueryLists* excluded, TargetRankTimes* times)>;
UserRanking rank_test_users(const QueryGather& gather_queries, const CandidateMatrix& candidates,
                            const std::vector<int64_t>& catalogue_index, const Examples& test,
                            const std::vector<float>& test_ratings, const ExperimentConfig& config,
                            const SeenItems* seen,
                            const std::function<void(int64_t done, int64_t total)>& on_progress = {},
                            int threads = 1, EvalPhaseTimes* times = nullptr, const TargetRanker& ranker = {});

}  // namespace tandem
