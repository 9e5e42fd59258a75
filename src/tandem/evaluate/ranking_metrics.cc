#include "tandem/evaluate/ranking_metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "tandem/core/blas.h"
#include "tandem/core/error.h"
#include "tandem/evaluate/tiled_ranking.h"

namespace tandem {

RankingMetrics ranking_metrics_from_ranks(const std::vector<std::vector<int64_t>>& relevant_ranks,
                                          int64_t k) {
  TANDEM_CHECK(k > 0, "ranking metrics: k must be > 0, got " << k);
  RankingMetrics m;
  m.k = k;
  std::vector<int64_t> ranks;
  for (size_t u = 0; u < relevant_ranks.size(); ++u) {
    ranks = relevant_ranks[u];
    if (ranks.empty()) continue;
    std::sort(ranks.begin(), ranks.end());
    for (int64_t r : ranks) TANDEM_CHECK(r >= 0, "ranking metrics: user " << u << " has rank " << r);
    double hits = 0, dcg = 0, ap = 0;
    int64_t previous = -1;
    for (size_t i = 0; i < ranks.size(); ++i) {
      // With ties counted favourably two relevant items can share a rank;
      // place them one after the other, as a stable sort would.
      const int64_t pos = std::max(ranks[i], previous + 1);
      previous = pos;
      if (pos >= k) break;
      hits += 1;
      dcg += 1.0 / std::log2(static_cast<double>(pos) + 2.0);
      ap += hits / static_cast<double>(pos + 1);
    }
    double ideal = 0;
    const auto n_ideal = std::min<int64_t>(static_cast<int64_t>(ranks.size()), k);
    for (int64_t i = 0; i < n_ideal; ++i) ideal += 1.0 / std::log2(static_cast<double>(i) + 2.0);
    m.recall += hits / static_cast<double>(ranks.size());
    m.ndcg += dcg / ideal;
    m.map += ap / static_cast<double>(n_ideal);
    m.mrr += 1.0 / static_cast<double>(ranks.front() + 1);
    m.users += 1;
  }
  if (m.users > 0) {
    const auto n = static_cast<double>(m.users);
    m.recall /= n;
    m.ndcg /= n;
    m.map /= n;
    m.mrr /= n;
  }
  return m;
}

std::vector<std::vector<int64_t>> relevant_ranks(const float* queries, int64_t n_queries,
                                                 const CandidateMatrix& c,
                                                 const std::vector<std::vector<int64_t>>& relevant,
                                                 const std::vector<std::vector<int64_t>>* excluded) {
  TANDEM_CHECK(n_queries >= 0 && static_cast<int64_t>(relevant.size()) == n_queries,
               "relevant_ranks: " << relevant.size() << " relevant lists for " << n_queries
                                  << " queries");
  TANDEM_CHECK(excluded == nullptr || static_cast<int64_t>(excluded->size()) == n_queries,
               "relevant_ranks: " << excluded->size() << " exclusion lists for " << n_queries
                                  << " queries");
  TANDEM_CHECK(n_queries == 0 || queries != nullptr, "relevant_ranks: queries is null");
  TANDEM_CHECK(c.count >= 0 && c.dim > 0 && (c.count == 0 || c.data != nullptr),
               "relevant_ranks: bad candidate matrix (" << c.count << " x " << c.dim << ")");
  auto check_list = [&](const std::vector<int64_t>& list, int64_t q, const char* what) {
    for (int64_t j : list)
      TANDEM_CHECK(j >= 0 && j < c.count, "relevant_ranks: query " << q << " has " << what << " index "
                                                                   << j << ", outside [0, "
                                                                   << c.count << ")");
  };
  for (int64_t q = 0; q < n_queries; ++q) {
    check_list(relevant[static_cast<size_t>(q)], q, "relevant");
    if (excluded) check_list((*excluded)[static_cast<size_t>(q)], q, "excluded");
  }

  // Relevant items that are also excluded are dropped; the rest are ranked
  // by the tiled kernel.
  PerQueryLists targets;
  std::vector<int64_t> list, ex;
  for (int64_t q = 0; q < n_queries; ++q) {
    list.clear();
    ex.clear();
    if (excluded) ex = (*excluded)[static_cast<size_t>(q)];
    std::sort(ex.begin(), ex.end());
    for (int64_t t : relevant[static_cast<size_t>(q)])
      if (!std::binary_search(ex.begin(), ex.end(), t)) list.push_back(t);
    targets.add(list.data(), list.data() + list.size());
  }
  PerQueryLists excluded_lists;
  if (excluded)
    for (const auto& e : *excluded) excluded_lists.add(e.data(), e.data() + e.size());
  TargetRankOptions options;
  options.threads = std::max(blas::threads(), 1);
  const std::vector<int64_t> ranks =
      rank_targets(queries, c, targets, excluded ? &excluded_lists : nullptr, options);
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(n_queries));
  for (int64_t q = 0; q < n_queries; ++q)
    out[static_cast<size_t>(q)].assign(ranks.begin() + targets.offsets[static_cast<size_t>(q)],
                                       ranks.begin() + targets.offsets[static_cast<size_t>(q) + 1]);
  return out;
}

double auc(const std::vector<float>& scores, const std::vector<int>& labels) {
  TANDEM_CHECK(scores.size() == labels.size(),
               "auc: " << scores.size() << " scores but " << labels.size() << " labels");
  int64_t pos = 0, neg = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    TANDEM_CHECK(labels[i] == 0 || labels[i] == 1, "auc: label " << i << " is " << labels[i] << ", not 0 or 1");
    TANDEM_CHECK(!std::isnan(scores[i]), "auc: score " << i << " is NaN");
    (labels[i] ? pos : neg) += 1;
  }
  TANDEM_CHECK(pos > 0 && neg > 0, "auc: needs positives and negatives, got " << pos << " and " << neg);
  // Mann-Whitney: sum of the positives' ranks (average ranks over ties).
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double rank_sum = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) ++j;
    const double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;  // 1-based
    for (size_t t = i; t < j; ++t)
      if (labels[order[t]]) rank_sum += avg_rank;
    i = j;
  }
  const double p = static_cast<double>(pos), n = static_cast<double>(neg);
  return (rank_sum - p * (p + 1) / 2) / (p * n);
}

}  // namespace tandem
