// Per-user ranking metrics over a whole catalogue (Recall@K, NDCG@K, MAP@K,
// MRR) and AUC of a binary scorer: what recommender papers and TorchRec /
// TFRS users report beside the tutorials' factorized top-K accuracy.
//
// Conventions (each checked against hand-computed cases in tests):
//  - A user's ranking is every catalogue item not excluded (e.g. seen in
//    training), best score first. An item's rank is the number of
//    non-excluded items scoring strictly higher (0-based; ties count in its
//    favour, as positive_ranks does), so relevant items never push each other
//    down by a tie.
//  - Relevance is binary. Recall@K = |relevant in top K| / |relevant|;
//    NDCG@K = DCG / ideal DCG with gain 1/log2(rank + 2);
//    MAP@K = (1 / min(|relevant|, K)) * sum over relevant items in the top K
//    of precision at their position; MRR = 1 / (rank of the best relevant
//    item + 1), over the full ranking (not cut at K).
//  - Users without relevant items are skipped; each metric is the mean over
//    the remaining users.
#pragma once

#include <cstdint>
#include <vector>

#include "tandem/evaluate/topk.h"

namespace tandem {

struct RankingMetrics {
  int64_t k = 0;
  double recall = 0.0, ndcg = 0.0, map = 0.0, mrr = 0.0;
  int64_t users = 0;  // users with at least one relevant item
};

// From each user's relevant-item ranks (any order; see above).
RankingMetrics ranking_metrics_from_ranks(const std::vector<std::vector<int64_t>>& relevant_ranks,
                                          int64_t k);

// The ranks themselves: for query q ([n_queries, dim]), the rank of each
// candidate index in relevant[q] among the candidates not in excluded[q]
// (excluded may be null; lists need not be sorted; a relevant item that is
// also excluded is dropped). Computed by rank_targets (tiled_ranking.h) on
// blas::threads() workers.
// Errors: size mismatches, indices outside [0, count).
std::vector<std::vector<int64_t>> relevant_ranks(
    const float* queries, int64_t n_queries, const CandidateMatrix& candidates,
    const std::vector<std::vector<int64_t>>& relevant,
    const std::vector<std::vector<int64_t>>* excluded = nullptr);

// Area under the ROC curve of `scores` for binary `labels` (1 positive, 0
// negative): the probability that a random positive outscores a random
// negative, ties counting one half (Mann-Whitney). Errors: size mismatch, no
// positive or no negative, a NaN score, a label other than 0/1.
double auc(const std::vector<float>& scores, const std::vector<int>& labels);

}  // namespace tandem
