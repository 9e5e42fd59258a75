#include "tandem/evaluate/ranking_metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "tandem/core/blas.h"
#include "tandem/core/error.h"

namespace tandem {

namespace {

// How many entries of the ascending `sorted` (non-empty) are < v: a binary
// search without data-dependent branches (the comparisons become conditional
// moves), 2-3x faster here than std::lower_bound on random scores,
// whose every step is a coin-flip branch.
size_t count_below(const std::vector<float>& sorted, float v) {
  const float* a = sorted.data();
  size_t lo = 0, len = sorted.size();
  while (len > 1) {
    const size_t half = len / 2;
    lo += a[lo + half - 1] < v ? half : 0;
    len -= half;
  }
  return lo + (a[lo] < v ? 1 : 0);
}

}  // namespace

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

  std::vector<std::vector<int64_t>> out(static_cast<size_t>(n_queries));
  if (c.count == 0) return out;
  // Same scratch bound as top_k: at most ~4M floats of scores at a time.
  const int64_t block = std::clamp<int64_t>((int64_t{4} << 20) / c.count, 1, 1024);
  std::vector<float> scores(static_cast<size_t>(std::min(block, std::max<int64_t>(n_queries, 1)) * c.count));
  std::vector<unsigned char> skip(static_cast<size_t>(c.count), 0);
  // Per query, one pass over the candidates instead of one per relevant item:
  // each candidate's score is placed among the relevant items' sorted scores
  // (binary search), and a suffix sum turns those counts into ranks. Cost
  // O(count log |relevant|) per query.
  std::vector<float> sorted;
  // Candidates scoring above exactly p of the relevant scores, then (suffix
  // sums) above at least p of them.
  std::vector<int64_t> beaten;
  for (int64_t q0 = 0; q0 < n_queries; q0 += block) {
    const int64_t rows = std::min(block, n_queries - q0);
    blas::gemm(false, true, rows, c.count, c.dim, 1.0f, queries + q0 * c.dim, c.dim, c.data, c.dim,
               0.0f, scores.data(), c.count);
    for (int64_t r = 0; r < rows; ++r) {
      const auto q = static_cast<size_t>(q0 + r);
      const float* s = scores.data() + r * c.count;
      if (excluded)
        for (int64_t j : (*excluded)[q]) skip[static_cast<size_t>(j)] = 1;
      sorted.clear();
      for (int64_t t : relevant[q])
        if (!skip[static_cast<size_t>(t)] && !std::isnan(s[t])) sorted.push_back(s[t]);
      std::sort(sorted.begin(), sorted.end());
      beaten.assign(sorted.size() + 1, 0);
      if (!sorted.empty()) {
        const float lowest = sorted.front();
        for (int64_t j = 0; j < c.count; ++j) {
          const float v = s[j];
          // NaN fails the test too: a NaN candidate never counts as higher.
          if (!(v > lowest) || skip[static_cast<size_t>(j)]) continue;
          beaten[count_below(sorted, v)] += 1;
        }
        for (size_t p = beaten.size() - 1; p > 0; --p) beaten[p - 1] += beaten[p];
      }
      for (int64_t target_index : relevant[q]) {
        if (skip[static_cast<size_t>(target_index)]) continue;
        const float target = s[target_index];
        if (std::isnan(target)) {
          out[q].push_back(c.count);  // never a hit
          continue;
        }
        // Candidates above `target` = those above sorted[i], i = the first
        // index holding target's value: beaten[i + 1].
        const auto i = std::lower_bound(sorted.begin(), sorted.end(), target) - sorted.begin();
        out[q].push_back(beaten[static_cast<size_t>(i) + 1]);
      }
      if (excluded)
        for (int64_t j : (*excluded)[q]) skip[static_cast<size_t>(j)] = 0;
    }
  }
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
