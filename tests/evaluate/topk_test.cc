#include "tandem/evaluate/topk.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tandem/core/error.h"
#include "tandem/core/random.h"

namespace tandem {
namespace {

// Two queries, four candidates, dim 2. Scores by hand:
//   q0 = (1,0): c0=(1,2) -> 1, c1=(3,0) -> 3, c2=(1,1) -> 1, c3=(3,5) -> 3
//   q1 = (1,1): c0 -> 3,       c1 -> 3,       c2 -> 2,       c3 -> 8
// Both queries contain ties, so the lower-index rule is exercised.
struct Small {
  std::vector<float> queries{1, 0, 1, 1};
  std::vector<float> cand{1, 2, 3, 0, 1, 1, 3, 5};
  CandidateMatrix matrix() const { return {cand.data(), 4, 2}; }
};

struct Expected {
  int64_t index;
  float score;
};

void expect_list(const std::vector<ScoredItem>& got, const std::vector<Expected>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].index, want[i].index) << "position " << i;
    EXPECT_EQ(got[i].score, want[i].score) << "position " << i;
  }
}

TEST(TopK, HandComputedWithTies) {
  Small s;
  auto res = top_k(s.queries.data(), 2, s.matrix(), 2);
  ASSERT_EQ(res.size(), 2u);
  expect_list(res[0], {{1, 3}, {3, 3}});
  expect_list(res[1], {{3, 8}, {0, 3}});
}

TEST(TopK, KOneAndFullOrder) {
  Small s;
  auto one = top_k(s.queries.data(), 2, s.matrix(), 1);
  expect_list(one[0], {{1, 3}});
  expect_list(one[1], {{3, 8}});
  auto all = top_k(s.queries.data(), 2, s.matrix(), 4);
  expect_list(all[0], {{1, 3}, {3, 3}, {0, 1}, {2, 1}});
  expect_list(all[1], {{3, 8}, {0, 3}, {1, 3}, {2, 2}});
}

TEST(TopK, KClampedToCount) {
  Small s;
  auto res = top_k(s.queries.data(), 2, s.matrix(), 100);
  expect_list(res[0], {{1, 3}, {3, 3}, {0, 1}, {2, 1}});
  expect_list(res[1], {{3, 8}, {0, 3}, {1, 3}, {2, 2}});
}

TEST(TopK, Exclusions) {
  Small s;
  // Out-of-range entries (99, -5, 4) are ignored; duplicates are harmless.
  std::vector<std::vector<int64_t>> ex{{1, 99, -5}, {3, 3, 4}};
  auto res = top_k(s.queries.data(), 2, s.matrix(), 2, &ex);
  expect_list(res[0], {{3, 3}, {0, 1}});
  expect_list(res[1], {{0, 3}, {1, 3}});
}

TEST(TopK, ExclusionsLeaveFewerThanK) {
  Small s;
  std::vector<std::vector<int64_t>> ex{{0, 1, 2}, {0, 1, 2, 3}};
  auto res = top_k(s.queries.data(), 2, s.matrix(), 3, &ex);
  expect_list(res[0], {{3, 3}});
  EXPECT_TRUE(res[1].empty());
}

TEST(TopK, ExclusionsDoNotLeakToNextQuery) {
  Small s;
  std::vector<std::vector<int64_t>> ex{{3, 1}, {}};
  auto res = top_k(s.queries.data(), 2, s.matrix(), 4, &ex);
  expect_list(res[0], {{0, 1}, {2, 1}});
  expect_list(res[1], {{3, 8}, {0, 3}, {1, 3}, {2, 2}});
}

TEST(TopK, EmptyCatalogueAndNoQueries) {
  Small s;
  auto res = top_k(s.queries.data(), 2, CandidateMatrix{nullptr, 0, 2}, 3);
  ASSERT_EQ(res.size(), 2u);
  EXPECT_TRUE(res[0].empty());
  EXPECT_TRUE(res[1].empty());
  EXPECT_TRUE(top_k(nullptr, 0, s.matrix(), 3).empty());
}

TEST(TopK, ZeroDimScoresAllZero) {
  // With dim 0 every dot product is 0, so order is by index alone.
  float q = 0, c = 0;
  auto res = top_k(&q, 1, CandidateMatrix{&c, 3, 0}, 2);
  expect_list(res[0], {{0, 0}, {1, 0}});
  int64_t p = 2;
  EXPECT_EQ(positive_ranks(&q, 1, CandidateMatrix{&c, 3, 0}, &p), (std::vector<int64_t>{0}));
}

TEST(TopK, NaNRanksLast) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> q{1, 0};
  // Scores: NaN, 2, -inf, NaN, -1.
  std::vector<float> c{nan, 0, 2, 0, -inf, 0, nan, 0, -1, 0};
  CandidateMatrix m{c.data(), 5, 2};
  auto three = top_k(q.data(), 1, m, 3);
  expect_list(three[0], {{1, 2}, {4, -1}, {2, -inf}});
  auto all = top_k(q.data(), 1, m, 5);
  ASSERT_EQ(all[0].size(), 5u);
  EXPECT_EQ(all[0][3].index, 0);
  EXPECT_TRUE(std::isnan(all[0][3].score));
  EXPECT_EQ(all[0][4].index, 3);
  EXPECT_TRUE(std::isnan(all[0][4].score));
}

TEST(TopK, Errors) {
  Small s;
  EXPECT_THROW(top_k(s.queries.data(), 2, s.matrix(), 0), Error);
  EXPECT_THROW(top_k(s.queries.data(), 2, s.matrix(), -3), Error);
  std::vector<std::vector<int64_t>> wrong_size{{0}};
  EXPECT_THROW(top_k(s.queries.data(), 2, s.matrix(), 2, &wrong_size), Error);
  EXPECT_THROW(top_k(s.queries.data(), -1, s.matrix(), 2), Error);
  EXPECT_THROW(top_k(nullptr, 2, s.matrix(), 2), Error);
  EXPECT_THROW(top_k(s.queries.data(), 2, CandidateMatrix{nullptr, 4, 2}, 2), Error);
  EXPECT_THROW(top_k(s.queries.data(), 2, CandidateMatrix{s.cand.data(), -1, 2}, 2), Error);
  EXPECT_THROW(top_k(s.queries.data(), 2, CandidateMatrix{s.cand.data(), 4, -2}, 2), Error);
}

TEST(PositiveRanks, HandComputed) {
  Small s;
  // q0 positive c3 (score 3): nothing strictly above (c1 ties) -> 0.
  // q1 positive c1 (score 3): only c3 (8) above -> 1.
  std::vector<int64_t> pos{3, 1};
  EXPECT_EQ(positive_ranks(s.queries.data(), 2, s.matrix(), pos.data()),
            (std::vector<int64_t>{0, 1}));
  // q0 positive c0 (score 1): c1, c3 above; c2 ties -> 2.
  // q1 positive c2 (score 2): c0, c1, c3 above -> 3.
  pos = {0, 2};
  EXPECT_EQ(positive_ranks(s.queries.data(), 2, s.matrix(), pos.data()),
            (std::vector<int64_t>{2, 3}));
  // -1: not in the catalogue -> rank = count.
  pos = {-1, 3};
  EXPECT_EQ(positive_ranks(s.queries.data(), 2, s.matrix(), pos.data()),
            (std::vector<int64_t>{4, 0}));
}

TEST(PositiveRanks, NaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> q{1, 0};
  // Scores: NaN, 2, -1.
  std::vector<float> c{nan, 0, 2, 0, -1, 0};
  CandidateMatrix m{c.data(), 3, 2};
  int64_t p = 0;
  EXPECT_EQ(positive_ranks(q.data(), 1, m, &p), (std::vector<int64_t>{3}));
  p = 2;  // The NaN candidate does not count as above -1.
  EXPECT_EQ(positive_ranks(q.data(), 1, m, &p), (std::vector<int64_t>{1}));
  p = 1;
  EXPECT_EQ(positive_ranks(q.data(), 1, m, &p), (std::vector<int64_t>{0}));
}

TEST(PositiveRanks, EmptyCatalogue) {
  float q[2] = {1, 1};
  int64_t p = -1;
  EXPECT_EQ(positive_ranks(q, 1, CandidateMatrix{nullptr, 0, 2}, &p),
            (std::vector<int64_t>{0}));
  p = 0;
  EXPECT_THROW(positive_ranks(q, 1, CandidateMatrix{nullptr, 0, 2}, &p), Error);
}

TEST(PositiveRanks, ErrorNamesQueryAndValue) {
  Small s;
  std::vector<int64_t> pos{1, 4};
  try {
    positive_ranks(s.queries.data(), 2, s.matrix(), pos.data());
    FAIL() << "expected tandem::Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("query 1"), std::string::npos) << msg;
    EXPECT_NE(msg.find("4"), std::string::npos) << msg;
  }
  pos = {-2, 0};
  try {
    positive_ranks(s.queries.data(), 2, s.matrix(), pos.data());
    FAIL() << "expected tandem::Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("query 0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("-2"), std::string::npos) << msg;
  }
  EXPECT_THROW(positive_ranks(s.queries.data(), 2, s.matrix(), nullptr), Error);
}

// ---- Randomised comparison against plain loops ----------------------------

// Small integers make every float dot product exact (|score| <= 16*3*3), so
// GEMM and the double reference must agree bit for bit, ties included.
std::vector<float> small_ints(Rng& rng, size_t n) {
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(static_cast<int64_t>(rng.below(7)) - 3);
  return v;
}

std::vector<double> ref_scores(const std::vector<float>& q, int64_t qi,
                               const std::vector<float>& c, int64_t count, int64_t dim) {
  std::vector<double> out(static_cast<size_t>(count));
  for (int64_t j = 0; j < count; ++j) {
    double acc = 0;
    for (int64_t d = 0; d < dim; ++d)
      acc += static_cast<double>(q[qi * dim + d]) * static_cast<double>(c[j * dim + d]);
    out[j] = acc;
  }
  return out;
}

std::vector<int64_t> ref_top(const std::vector<double>& sc, int64_t k,
                             const std::vector<int64_t>& excluded) {
  std::vector<char> skip(sc.size(), 0);
  for (int64_t j : excluded)
    if (j >= 0 && j < static_cast<int64_t>(sc.size())) skip[j] = 1;
  std::vector<int64_t> idx;
  for (int64_t j = 0; j < static_cast<int64_t>(sc.size()); ++j)
    if (!skip[j]) idx.push_back(j);
  const auto keep = std::min<size_t>(idx.size(), static_cast<size_t>(k));
  std::partial_sort(idx.begin(), idx.begin() + keep, idx.end(), [&](int64_t a, int64_t b) {
    return sc[a] != sc[b] ? sc[a] > sc[b] : a < b;
  });
  idx.resize(keep);
  return idx;
}

TEST(TopKRandom, ExactIntegersManyBlocks) {
  const int64_t nq = 3000, count = 5000, dim = 16, k = 10;
  Rng rng(42);
  auto q = small_ints(rng, nq * dim);
  auto c = small_ints(rng, count * dim);
  std::vector<std::vector<int64_t>> ex(nq);
  for (int64_t i = 0; i < nq; ++i) {
    const int64_t n = static_cast<int64_t>(rng.below(20));
    for (int64_t t = 0; t < n; ++t)
      ex[i].push_back(static_cast<int64_t>(rng.below(count + 10)) - 5);  // some out of range
  }
  std::vector<int64_t> pos(nq);
  for (int64_t i = 0; i < nq; ++i)
    pos[i] = rng.below(50) == 0 ? -1 : static_cast<int64_t>(rng.below(count));

  const CandidateMatrix m{c.data(), count, dim};
  auto got = top_k(q.data(), nq, m, k, &ex);
  auto got_plain = top_k(q.data(), nq, m, k);
  auto ranks = positive_ranks(q.data(), nq, m, pos.data());
  ASSERT_EQ(got.size(), static_cast<size_t>(nq));
  ASSERT_EQ(ranks.size(), static_cast<size_t>(nq));

  int64_t mismatches = 0;
  for (int64_t i = 0; i < nq && mismatches < 5; ++i) {
    auto sc = ref_scores(q, i, c, count, dim);
    auto want = ref_top(sc, k, ex[i]);
    auto want_plain = ref_top(sc, k, {});
    bool ok = got[i].size() == want.size() && got_plain[i].size() == want_plain.size();
    for (size_t t = 0; ok && t < want.size(); ++t)
      ok = got[i][t].index == want[t] && got[i][t].score == static_cast<float>(sc[want[t]]);
    for (size_t t = 0; ok && t < want_plain.size(); ++t)
      ok = got_plain[i][t].index == want_plain[t];
    int64_t want_rank = count;
    if (pos[i] >= 0) {
      want_rank = 0;
      for (double s : sc) want_rank += s > sc[pos[i]] ? 1 : 0;
    }
    ok = ok && ranks[i] == want_rank;
    if (!ok) {
      ++mismatches;
      ADD_FAILURE() << "query " << i << " differs from reference (rank " << ranks[i]
                    << " vs " << want_rank << ")";
    }
  }
  EXPECT_EQ(mismatches, 0);
}

// One query at a time takes the GEMV path (serving); it must give the same
// lists as the reference, exclusions included.
TEST(TopKRandom, SingleQueriesMatchReference) {
  const int64_t nq = 200, count = 3001, dim = 24, k = 50;
  Rng rng(99);
  auto q = small_ints(rng, nq * dim);
  auto c = small_ints(rng, count * dim);
  const CandidateMatrix m{c.data(), count, dim};
  for (int64_t i = 0; i < nq; ++i) {
    std::vector<std::vector<int64_t>> ex(1);
    for (int64_t t = 0; t < 30; ++t) ex[0].push_back(static_cast<int64_t>(rng.below(count)));
    const auto got = top_k(q.data() + i * dim, 1, m, k, &ex);
    const auto sc = ref_scores(q, i, c, count, dim);
    const auto want = ref_top(sc, k, ex[0]);
    ASSERT_EQ(got[0].size(), want.size()) << "query " << i;
    for (size_t t = 0; t < want.size(); ++t) {
      ASSERT_EQ(got[0][t].index, want[t]) << "query " << i << " position " << t;
      ASSERT_EQ(got[0][t].score, static_cast<float>(sc[want[t]])) << "query " << i;
    }
  }
}

// Scores drawn from a few values with NaN and both infinities among them
// (dim 1, query 1: the scores are the candidates): every k, with and without
// exclusions, against a full sort with NaN last and lower index first on ties.
TEST(TopKRandom, NaNsInfinitiesAndTiesMatchAFullSort) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const float values[] = {nan, -inf, inf, -1.0f, 0.0f, 0.5f, 2.0f};
  Rng rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const int64_t count = 1 + static_cast<int64_t>(rng.below(60));
    std::vector<float> c(static_cast<size_t>(count));
    for (float& x : c) x = values[rng.below(7)];
    std::vector<std::vector<int64_t>> ex(1);
    if (trial % 2 == 1)
      for (int64_t t = 0; t < count / 3; ++t) ex[0].push_back(static_cast<int64_t>(rng.below(count)));
    std::vector<int64_t> want;
    for (int64_t j = 0; j < count; ++j)
      if (std::find(ex[0].begin(), ex[0].end(), j) == ex[0].end()) want.push_back(j);
    std::stable_sort(want.begin(), want.end(), [&](int64_t a, int64_t b) {
      const bool a_nan = std::isnan(c[a]), b_nan = std::isnan(c[b]);
      if (a_nan || b_nan) return !a_nan;  // numbers first; stable keeps index order
      return c[a] > c[b];
    });
    const float one = 1.0f;
    const int64_t k = 1 + static_cast<int64_t>(rng.below(static_cast<uint64_t>(count) + 2));
    const auto got = top_k(&one, 1, CandidateMatrix{c.data(), count, 1}, k, &ex);
    const size_t keep = std::min(want.size(), static_cast<size_t>(k));
    ASSERT_EQ(got[0].size(), keep) << "trial " << trial;
    for (size_t t = 0; t < keep; ++t)
      ASSERT_EQ(got[0][t].index, want[t]) << "trial " << trial << " position " << t << " k " << k;
  }
}

// Many short rows per block (tiny catalogue) and a ragged last block.
TEST(TopKRandom, TinyCatalogueTallBlocks) {
  const int64_t nq = 2500, count = 3, dim = 4;
  Rng rng(7);
  auto q = small_ints(rng, nq * dim);
  auto c = small_ints(rng, count * dim);
  const CandidateMatrix m{c.data(), count, dim};
  auto got = top_k(q.data(), nq, m, 5);
  std::vector<int64_t> pos(nq);
  for (int64_t i = 0; i < nq; ++i) pos[i] = static_cast<int64_t>(i % count);
  auto ranks = positive_ranks(q.data(), nq, m, pos.data());
  for (int64_t i = 0; i < nq; ++i) {
    auto sc = ref_scores(q, i, c, count, dim);
    auto want = ref_top(sc, count, {});
    ASSERT_EQ(got[i].size(), want.size()) << "query " << i;
    for (size_t t = 0; t < want.size(); ++t) ASSERT_EQ(got[i][t].index, want[t]) << i;
    int64_t want_rank = 0;
    for (double s : sc) want_rank += s > sc[pos[i]] ? 1 : 0;
    ASSERT_EQ(ranks[i], want_rank) << "query " << i;
  }
}

// Real-valued data: GEMM rounding may reorder near-ties, so check properties
// that must hold within a tolerance instead of exact lists.
TEST(TopKRandom, RealValuedWithinTolerance) {
  const int64_t nq = 300, count = 20000, dim = 32, k = 20;
  Rng rng(2024);
  std::vector<float> q(nq * dim), c(count * dim);
  for (float& x : q) x = rng.uniform(-1, 1);
  for (float& x : c) x = rng.uniform(-1, 1);
  const CandidateMatrix m{c.data(), count, dim};
  auto got = top_k(q.data(), nq, m, k);
  const double tol = 1e-4;
  for (int64_t i = 0; i < nq; ++i) {
    auto sc = ref_scores(q, i, c, count, dim);
    ASSERT_EQ(got[i].size(), static_cast<size_t>(k));
    std::vector<char> in(count, 0);
    for (int64_t t = 0; t < k; ++t) {
      const auto& it = got[i][t];
      ASSERT_GE(it.index, 0);
      ASSERT_LT(it.index, count);
      ASSERT_FALSE(in[it.index]) << "duplicate index in query " << i;
      in[it.index] = 1;
      ASSERT_NEAR(it.score, sc[it.index], tol);
      if (t > 0) {
        ASSERT_GE(got[i][t - 1].score, it.score);
      }
    }
    const double kth = got[i][k - 1].score;
    for (int64_t j = 0; j < count; ++j)
      if (!in[j]) {
        ASSERT_LE(sc[j], kth + tol) << "query " << i << " missed " << j;
      }
  }
}

}  // namespace
}  // namespace tandem
