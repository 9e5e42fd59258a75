#include "tandem/evaluate/ranking_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tandem/core/error.h"

namespace tandem {
namespace {

// User A: relevant at ranks 0 and 2; user B: relevant at rank 5; user C has
// no relevant item (skipped). k = 3. By hand:
//  A: recall 2/2; DCG 1/log2(2) + 1/log2(4) = 1.5, ideal 1 + 1/log2(3);
//     AP (1/1 + 2/3) / 2; RR 1.
//  B: recall 0, NDCG 0, AP 0, RR 1/6.
TEST(RankingMetrics, HandComputed) {
  const auto m = ranking_metrics_from_ranks({{2, 0}, {5}, {}}, 3);
  const double ideal = 1.0 + 1.0 / std::log2(3.0);
  EXPECT_EQ(m.users, 2);
  EXPECT_EQ(m.k, 3);
  EXPECT_NEAR(m.recall, (1.0 + 0.0) / 2, 1e-12);
  EXPECT_NEAR(m.ndcg, (1.5 / ideal + 0.0) / 2, 1e-12);
  EXPECT_NEAR(m.map, ((1.0 + 2.0 / 3.0) / 2 + 0.0) / 2, 1e-12);
  EXPECT_NEAR(m.mrr, (1.0 + 1.0 / 6.0) / 2, 1e-12);
}

// Two relevant items tied at rank 1 take positions 1 and 2; with k = 2 only
// the first is inside: recall 1/2, DCG 1/log2(3), ideal 1 + 1/log2(3), AP
// (1/2) / 2, RR 1/2.
TEST(RankingMetrics, TiesArePlacedOneAfterTheOther) {
  const auto m = ranking_metrics_from_ranks({{1, 1}}, 2);
  EXPECT_NEAR(m.recall, 0.5, 1e-12);
  EXPECT_NEAR(m.ndcg, (1.0 / std::log2(3.0)) / (1.0 + 1.0 / std::log2(3.0)), 1e-12);
  EXPECT_NEAR(m.map, 0.25, 1e-12);
  EXPECT_NEAR(m.mrr, 0.5, 1e-12);
}

TEST(RankingMetrics, PerfectAndEmpty) {
  const auto perfect = ranking_metrics_from_ranks({{0, 1, 2}, {0}}, 5);
  EXPECT_DOUBLE_EQ(perfect.recall, 1.0);
  EXPECT_DOUBLE_EQ(perfect.ndcg, 1.0);
  EXPECT_DOUBLE_EQ(perfect.map, 1.0);
  EXPECT_DOUBLE_EQ(perfect.mrr, 1.0);
  const auto none = ranking_metrics_from_ranks({{}, {}}, 5);
  EXPECT_EQ(none.users, 0);
  EXPECT_EQ(none.recall, 0.0);
  EXPECT_THROW(ranking_metrics_from_ranks({{0}}, 0), Error);
  EXPECT_THROW(ranking_metrics_from_ranks({{-1}}, 3), Error);
}

// Scores of one query (dim 1, query 1) are the candidate values
// [3, 1, 2, 5, 4]. Excluding item 3: item 0 (3) is beaten by item 4 only ->
// rank 1; item 2 (2) by items 0 and 4 -> rank 2. A relevant item that is
// also excluded is dropped.
TEST(RelevantRanks, HandComputedWithExclusions) {
  const std::vector<float> q{1.0f}, cand{3, 1, 2, 5, 4};
  const CandidateMatrix c{cand.data(), 5, 1};
  const std::vector<std::vector<int64_t>> excluded{{3}};
  auto r = relevant_ranks(q.data(), 1, c, {{0, 2, 3}}, &excluded);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0], (std::vector<int64_t>{1, 2}));
  r = relevant_ranks(q.data(), 1, c, {{0, 2, 3}});
  EXPECT_EQ(r[0], (std::vector<int64_t>{2, 3, 0}));
  EXPECT_THROW(relevant_ranks(q.data(), 1, c, {{5}}), Error);
  EXPECT_THROW(relevant_ranks(q.data(), 1, c, {{0}, {1}}), Error);
}

// Ties and NaN in the one-pass ranking. Scores [NaN, 2, 2, 1, 3]: item 1
// (2) is beaten by item 4 only (its tie with item 2 counts in its favour, the
// NaN never counts) -> 1; item 3 (1) by items 4, 1, 2 -> 3; item 0 (NaN) gets
// the candidate count 5; a duplicate entry gets its rank twice.
TEST(RelevantRanks, TiesAndNaN) {
  const std::vector<float> q{1.0f}, cand{NAN, 2, 2, 1, 3};
  const CandidateMatrix c{cand.data(), 5, 1};
  const auto r = relevant_ranks(q.data(), 1, c, {{1, 3, 0, 1}});
  EXPECT_EQ(r[0], (std::vector<int64_t>{1, 3, 5, 1}));
  // Excluding item 4 moves everyone up by one.
  const std::vector<std::vector<int64_t>> ex{{4}};
  EXPECT_EQ(relevant_ranks(q.data(), 1, c, {{1, 2, 3}}, &ex)[0], (std::vector<int64_t>{0, 0, 2}));
}

// Many queries across blocks agree with a per-query loop.
TEST(RelevantRanks, ManyQueriesMatchLoops) {
  const int64_t nq = 300, count = 17000, dim = 3;  // 17000 candidates: blocks of 246 queries
  std::vector<float> q(nq * dim), cand(count * dim);
  for (size_t i = 0; i < q.size(); ++i) q[i] = static_cast<float>(static_cast<int>(i * 7 % 5) - 2);
  for (size_t i = 0; i < cand.size(); ++i) cand[i] = static_cast<float>(static_cast<int>(i * 13 % 9) - 4);
  std::vector<std::vector<int64_t>> rel(nq), ex(nq);
  for (int64_t u = 0; u < nq; ++u) {
    rel[u] = {u % count, (u * 31) % count};
    ex[u] = {(u * 17 + 1) % count};
  }
  const auto got = relevant_ranks(q.data(), nq, {cand.data(), count, dim}, rel, &ex);
  for (int64_t u = 0; u < nq; ++u) {
    std::vector<int64_t> want;
    for (int64_t t : rel[u]) {
      if (t == ex[u][0]) continue;
      auto score = [&](int64_t j) {
        float s = 0;
        for (int64_t d = 0; d < dim; ++d) s += q[u * dim + d] * cand[j * dim + d];
        return s;
      };
      int64_t above = 0;
      for (int64_t j = 0; j < count; ++j) above += (j != ex[u][0] && score(j) > score(t)) ? 1 : 0;
      want.push_back(above);
    }
    ASSERT_EQ(got[u], want) << "query " << u;
  }
}

// Positives 0.35 and 0.8, negatives 0.1 and 0.4: of the 4 pairs the
// positive wins 3 -> 0.75. A tie counts one half.
TEST(Auc, HandComputed) {
  EXPECT_DOUBLE_EQ(auc({0.1f, 0.4f, 0.35f, 0.8f}, {0, 0, 1, 1}), 0.75);
  EXPECT_DOUBLE_EQ(auc({0.5f, 0.5f}, {1, 0}), 0.5);
  EXPECT_DOUBLE_EQ(auc({0.9f, 0.1f, 0.2f}, {1, 0, 0}), 1.0);
  EXPECT_DOUBLE_EQ(auc({0.0f, 0.1f, 0.2f}, {1, 0, 0}), 0.0);
  // Ties across groups: pos {0.5, 0.7}, neg {0.5, 0.1}: 0.5 vs 0.5 tie (0.5),
  // 0.5 > 0.1, 0.7 > both -> (0.5 + 1 + 2) / 4.
  EXPECT_DOUBLE_EQ(auc({0.5f, 0.7f, 0.5f, 0.1f}, {1, 1, 0, 0}), 3.5 / 4);
  EXPECT_THROW(auc({0.1f}, {1}), Error);
  EXPECT_THROW(auc({0.1f, 0.2f}, {1, 2}), Error);
  EXPECT_THROW(auc({NAN, 0.2f}, {1, 0}), Error);
  EXPECT_THROW(auc({0.1f}, {1, 0}), Error);
}

}  // namespace
}  // namespace tandem
