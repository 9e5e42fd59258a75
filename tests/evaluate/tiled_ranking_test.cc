// The tiled ranking kernel against a naive reference: every query's scores
// computed one dot product at a time, ranks counted candidate by candidate.
#include "tandem/evaluate/tiled_ranking.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "tandem/core/error.h"
#include "tandem/core/random.h"

namespace tandem {
namespace {

// Small integer components: every dot product is exact whatever the
// summation order (GEMM blocking), so the reference's ties are the kernel's,
// and there are many of them.
struct Problem {
  int64_t n = 0, count = 0, dim = 0;
  std::vector<float> queries, cand;
  PerQueryLists targets, excluded;
  CandidateMatrix matrix() const { return {cand.data(), count, dim}; }
};

Problem random_problem(int64_t n, int64_t count, int64_t dim, uint32_t seed, bool with_exclusions) {
  Rng rng(seed);
  const auto value = [&] { return static_cast<int>(rng.below(5)) - 2; };
  const auto pick = [&] { return static_cast<int64_t>(rng.below(static_cast<uint64_t>(count))); };
  const auto len = [&] { return static_cast<int>(rng.below(5)); };
  Problem p;
  p.n = n;
  p.count = count;
  p.dim = dim;
  for (int64_t i = 0; i < n * dim; ++i) p.queries.push_back(static_cast<float>(value()));
  for (int64_t i = 0; i < count * dim; ++i) p.cand.push_back(static_cast<float>(value()));
  std::vector<int64_t> t, e;
  for (int64_t q = 0; q < n; ++q) {
    t.clear();
    e.clear();
    const int nt = len();  // 0 to 4 targets, possibly repeated
    for (int i = 0; i < nt; ++i) t.push_back(pick());
    if (with_exclusions)
      for (int i = 0; i < 2 * len(); ++i) {
        const int64_t j = pick();  // possibly repeated, never a target
        if (std::find(t.begin(), t.end(), j) == t.end()) e.push_back(j);
      }
    p.targets.add(t.data(), t.data() + t.size());
    p.excluded.add(e.data(), e.data() + e.size());
  }
  return p;
}

// Scores one dot product at a time; rank = candidates not excluded scoring
// strictly higher; NaN target: count.
std::vector<int64_t> reference(const Problem& p, bool use_exclusions) {
  std::vector<int64_t> out;
  for (int64_t q = 0; q < p.n; ++q) {
    std::vector<float> s(static_cast<size_t>(p.count));
    for (int64_t j = 0; j < p.count; ++j) {
      float v = 0;
      for (int64_t k = 0; k < p.dim; ++k) v += p.queries[static_cast<size_t>(q * p.dim + k)] * p.cand[static_cast<size_t>(j * p.dim + k)];
      s[static_cast<size_t>(j)] = v;
    }
    const auto e0 = p.excluded.items.begin() + p.excluded.offsets[static_cast<size_t>(q)];
    const auto e1 = p.excluded.items.begin() + p.excluded.offsets[static_cast<size_t>(q) + 1];
    for (int64_t i = p.targets.offsets[static_cast<size_t>(q)]; i < p.targets.offsets[static_cast<size_t>(q) + 1]; ++i) {
      const float t = s[static_cast<size_t>(p.targets.items[static_cast<size_t>(i)])];
      if (std::isnan(t)) {
        out.push_back(p.count);
        continue;
      }
      int64_t above = 0;
      for (int64_t j = 0; j < p.count; ++j)
        if (s[static_cast<size_t>(j)] > t && !(use_exclusions && std::find(e0, e1, j) != e1)) ++above;
      out.push_back(above);
    }
  }
  return out;
}

std::vector<int64_t> run(const Problem& p, bool use_exclusions, ScoreTiles tiles, int threads) {
  TargetRankOptions o;
  o.threads = threads;
  o.tiles = tiles;
  return rank_targets(p.queries.data(), p.matrix(), p.targets, use_exclusions ? &p.excluded : nullptr, o);
}

const ScoreTiles kTileShapes[] = {{1, 1}, {2, 3}, {7, 16}, {16, 5}, {64, 64}, {256, 2048}};

TEST(TiledRanking, MatchesReferenceForEveryTileShapeAndThreadCount) {
  for (bool ex : {false, true}) {
    const Problem p = random_problem(53, 97, 5, ex ? 11u : 7u, ex);
    const auto want = reference(p, ex);
    for (const ScoreTiles& tiles : kTileShapes)
      for (int threads : {1, 2, 3})
        EXPECT_EQ(run(p, ex, tiles, threads), want)
            << "tiles " << tiles.queries << " x " << tiles.items << ", " << threads << " threads, exclusions " << ex;
  }
}

TEST(TiledRanking, ThreadCountsAgreeOnRealValuedScores) {
  // Real-valued scores (no exact ties): for a fixed tile shape the tiles are
  // the same whatever the thread count, so the ranks are too.
  Rng rng(3);
  Problem p = random_problem(300, 5000, 32, 5u, true);
  for (float& v : p.queries) v = rng.uniform(-1, 1);
  for (float& v : p.cand) v = rng.uniform(-1, 1);
  const ScoreTiles tiles{64, 512};
  const auto one = run(p, true, tiles, 1);
  EXPECT_EQ(run(p, true, tiles, 2), one);
  EXPECT_EQ(run(p, true, tiles, 3), one);
}

TEST(TiledRanking, HandComputedTiesAndNaN) {
  // q0 = (1, 0): scores 1, 3, 1, 3, NaN. q1 = (1, 1): 3, 3, 2, 8, NaN.
  const std::vector<float> q{1, 0, 1, 1};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> c{1, 2, 3, 0, 1, 1, 3, 5, nan, 0};
  PerQueryLists targets;
  const std::vector<int64_t> t0{1, 0, 4}, t1{0, 2};
  targets.add(t0.data(), t0.data() + t0.size());
  targets.add(t1.data(), t1.data() + t1.size());
  TargetRankOptions o;
  o.tiles = {1, 2};
  // q0: item 1 ties item 3 (rank 0), item 0 is behind 1 and 3 (rank 2; its
  // tie with item 2 is in its favour), item 4 scores NaN (count). q1: item 0
  // ties item 1, behind 3 (rank 1); item 2: behind 0, 1, 3 (rank 3). The NaN
  // candidate never counts.
  EXPECT_EQ(rank_targets(q.data(), {c.data(), 5, 2}, targets, nullptr, o), (std::vector<int64_t>{0, 2, 5, 1, 3}));
  // Excluding item 3 from q1 lifts both of its targets by one.
  PerQueryLists ex;
  const std::vector<int64_t> e1{3, 3};
  ex.add(nullptr, nullptr);
  ex.add(e1.data(), e1.data() + e1.size());
  EXPECT_EQ(rank_targets(q.data(), {c.data(), 5, 2}, targets, &ex, o), (std::vector<int64_t>{0, 2, 5, 0, 2}));
  // A NaN query: every score NaN, every target never a hit.
  const std::vector<float> qn{nan, 0};
  PerQueryLists one;
  one.add(t1.data(), t1.data() + t1.size());
  EXPECT_EQ(rank_targets(qn.data(), {c.data(), 5, 2}, one, nullptr, o), (std::vector<int64_t>{5, 5}));
}

TEST(TiledRanking, ManyExactTiesFallBackToTwoSweeps) {
  // 3000 copies of one candidate and one better one: every score of a query
  // equal but one, more near-ties than the one-sweep path keeps (it hands
  // such queries to the two-sweep path); ranks stay exact.
  std::vector<float> c(3001 * 2, 1.0f);
  c[2 * 1234] = 2.0f;  // candidate 1234 = (2, 1)
  const std::vector<float> q{1, 1, 1, 0};
  PerQueryLists t, ex;
  const std::vector<int64_t> t0{7, 1234}, t1{5}, e1{1234, 9};
  t.add(t0.data(), t0.data() + 2);
  t.add(t1.data(), t1.data() + 1);
  ex.add(nullptr, nullptr);
  ex.add(e1.data(), e1.data() + 2);
  for (const ScoreTiles& tiles : {ScoreTiles{1, 4096}, ScoreTiles{2, 1000}, ScoreTiles{256, 2048}})
    for (int threads : {1, 2, 3}) {
      TargetRankOptions o;
      o.tiles = tiles;
      o.threads = threads;
      // q0: candidate 7 (score 2) is behind 1234 (3); q1: candidate 5 (1)
      // is behind 1234 (2), unless 1234 is excluded.
      EXPECT_EQ(rank_targets(q.data(), {c.data(), 3001, 2}, t, nullptr, o), (std::vector<int64_t>{1, 0, 1}));
      EXPECT_EQ(rank_targets(q.data(), {c.data(), 3001, 2}, t, &ex, o), (std::vector<int64_t>{1, 0, 0}));
    }
}

TEST(TiledRanking, EmptyCases) {
  TargetRankOptions o;
  const std::vector<float> c{1, 2};
  PerQueryLists none;  // no queries
  EXPECT_TRUE(rank_targets(nullptr, {c.data(), 1, 2}, none, nullptr, o).empty());
  PerQueryLists no_targets;  // queries without targets
  no_targets.add(nullptr, nullptr);
  no_targets.add(nullptr, nullptr);
  const std::vector<float> q{1, 1, 2, 2};
  EXPECT_TRUE(rank_targets(q.data(), {c.data(), 1, 2}, no_targets, nullptr, o).empty());
  // dim 0: every score 0, all ties: rank 0.
  PerQueryLists t;
  const std::vector<int64_t> j{0};
  t.add(j.data(), j.data() + 1);
  EXPECT_EQ(rank_targets(q.data(), {c.data(), 2, 0}, t, nullptr, o), (std::vector<int64_t>{0}));
}

TEST(TiledRanking, Errors) {
  const std::vector<float> q{1, 1}, c{1, 2, 3, 4};
  const CandidateMatrix m{c.data(), 2, 2};
  TargetRankOptions o;
  PerQueryLists bad;
  const std::vector<int64_t> out_of_range{2};
  bad.add(out_of_range.data(), out_of_range.data() + 1);
  EXPECT_THROW(rank_targets(q.data(), m, bad, nullptr, o), Error);
  PerQueryLists t, ex, two;
  const std::vector<int64_t> j{1};
  t.add(j.data(), j.data() + 1);
  ex.add(j.data(), j.data() + 1);  // a target also excluded
  EXPECT_THROW(rank_targets(q.data(), m, t, &ex, o), Error);
  two.add(nullptr, nullptr);
  two.add(nullptr, nullptr);  // exclusion lists for two queries, targets for one
  EXPECT_THROW(rank_targets(q.data(), m, t, &two, o), Error);
  o.tiles = {0, 4};
  EXPECT_THROW(rank_targets(q.data(), m, t, nullptr, o), Error);
  o.tiles = {4, 4};
  o.threads = 0;
  EXPECT_THROW(rank_targets(q.data(), m, t, nullptr, o), Error);
}

}  // namespace
}  // namespace tandem
