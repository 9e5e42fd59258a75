#include "tandem/index/item_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>
#include <vector>

#include "tandem/core/error.h"
#include "tandem/core/random.h"

namespace tandem {
namespace {

std::vector<float> random_matrix(int64_t rows, int64_t dim, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> m(static_cast<size_t>(rows * dim));
  for (auto& v : m) v = rng.uniform(-1.0f, 1.0f);
  return m;
}

float dot(const float* a, const float* b, int64_t dim) {
  double s = 0.0;
  for (int64_t i = 0; i < dim; ++i) s += static_cast<double>(a[i]) * b[i];
  return static_cast<float>(s);
}

// One seeded catalogue and query set shared by the tests (building the graph
// once keeps the suite fast).
struct Fixture {
  static constexpr int64_t kItems = 5000, kDim = 32, kQueries = 200, kK = 10;
  std::vector<float> items = random_matrix(kItems, kDim, 7);
  std::vector<float> queries = random_matrix(kQueries, kDim, 8);
  ExactIndex exact{items.data(), kItems, kDim};
  HnswIndex hnsw{items.data(), kItems, kDim};
  const float* query(int64_t q) const { return queries.data() + q * kDim; }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

TEST(ExactIndex, EqualsTopK) {
  const auto& f = fixture();
  // Batched top_k runs one GEMM for all queries, whose rounding may differ in
  // the last bit from the single-query product; so the ranking must match the
  // batch exactly and the scores closely, and a one-query top_k bit for bit.
  const CandidateMatrix c{f.items.data(), f.kItems, f.kDim};
  const auto want = top_k(f.queries.data(), f.kQueries, c, f.kK);
  for (int64_t q = 0; q < f.kQueries; ++q) {
    const auto got = f.exact.search(f.query(q), f.kK);
    const auto one = top_k(f.query(q), 1, c, f.kK)[0];
    ASSERT_EQ(got.size(), want[q].size());
    ASSERT_EQ(got.size(), one.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].index, want[q][i].index);
      EXPECT_NEAR(got[i].score, want[q][i].score, 1e-5);
      EXPECT_EQ(got[i].index, one[i].index);
      EXPECT_EQ(got[i].score, one[i].score);
    }
  }
  EXPECT_EQ(f.exact.name(), "exact");
  EXPECT_EQ(f.exact.size(), f.kItems);
  EXPECT_EQ(f.exact.dim(), f.kDim);
}

TEST(HnswIndex, RecallAtLeast95WithDefaults) {
  const auto& f = fixture();
  const double recall = recall_at_k(f.hnsw, f.exact, f.queries.data(), f.kQueries, f.kK);
  EXPECT_GE(recall, 0.95);
  // The recall of the exact index against itself is 1 by definition.
  EXPECT_DOUBLE_EQ(recall_at_k(f.exact, f.exact, f.queries.data(), f.kQueries, f.kK), 1.0);
}

TEST(HnswIndex, IsReallyApproximate) {
  // A tiny graph searched shallowly must lose recall; if the HNSW path fell
  // back to exact search, this would stay at 1.
  const auto& f = fixture();
  HnswParams weak;
  weak.M = 4;
  weak.ef_construction = 8;
  weak.ef_search = 1;
  const HnswIndex small(f.items.data(), f.kItems, f.kDim, weak);
  const double weak_recall = recall_at_k(small, f.exact, f.queries.data(), f.kQueries, f.kK);
  const double good_recall = recall_at_k(f.hnsw, f.exact, f.queries.data(), f.kQueries, f.kK);
  EXPECT_LE(weak_recall, good_recall);
  EXPECT_LT(weak_recall, 0.95);
  EXPECT_GT(weak_recall, 0.0);  // but it still finds something
}

// Per-call depth: the default call equals an explicit call with the
// configured depth, deeper searches never lose recall on this fixture, and a
// depth as large as the catalogue visits everything (exact lists).
TEST(HnswIndex, SearchDepthPerCall) {
  const auto& f = fixture();
  double previous = 0.0;
  for (int64_t ef : {10, 40, 160, 640}) {
    double hits = 0.0;
    for (int64_t q = 0; q < f.kQueries; ++q) {
      const auto truth = f.exact.search(f.query(q), f.kK);
      const auto got = f.hnsw.search_with_ef(f.query(q), f.kK, ef);
      std::set<int64_t> want;
      for (const auto& t : truth) want.insert(t.index);
      for (const auto& g : got) hits += want.count(g.index);
    }
    const double recall = hits / static_cast<double>(f.kQueries * f.kK);
    EXPECT_GE(recall, previous - 0.005) << "ef " << ef;
    previous = recall;
  }
  EXPECT_GE(previous, 0.99);
  for (int64_t q = 0; q < 20; ++q) {
    const auto a = f.hnsw.search(f.query(q), f.kK);
    const auto b = f.hnsw.search_with_ef(f.query(q), f.kK, f.hnsw.params().ef_search);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].index, b[i].index);
    const auto all = f.hnsw.search_with_ef(f.query(q), f.kK, f.kItems);
    const auto truth = f.exact.search(f.query(q), f.kK);
    for (size_t i = 0; i < truth.size(); ++i) EXPECT_EQ(all[i].index, truth[i].index) << q;
  }
  EXPECT_THROW(f.hnsw.search_with_ef(f.query(0), f.kK, 0), Error);
}

TEST(HnswIndex, SameSeedSameResults) {
  const auto& f = fixture();
  const HnswIndex again(f.items.data(), f.kItems, f.kDim);
  for (int64_t q = 0; q < 20; ++q) {
    const auto a = f.hnsw.search(f.query(q), f.kK), b = again.search(f.query(q), f.kK);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].index, b[i].index);
  }
}

TEST(ItemIndex, ScoresAreTrueDotProductsBestFirst) {
  const auto& f = fixture();
  for (const ItemIndex* index : {static_cast<const ItemIndex*>(&f.exact),
                                 static_cast<const ItemIndex*>(&f.hnsw)}) {
    for (int64_t q = 0; q < 50; ++q) {
      const auto got = index->search(f.query(q), f.kK);
      ASSERT_EQ(static_cast<int64_t>(got.size()), f.kK) << index->name();
      std::set<int64_t> distinct;
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_GE(got[i].index, 0);
        ASSERT_LT(got[i].index, f.kItems);
        distinct.insert(got[i].index);
        EXPECT_NEAR(got[i].score, dot(f.query(q), f.items.data() + got[i].index * f.kDim, f.kDim),
                    1e-4)
            << index->name();
        if (i > 0) {
          EXPECT_GE(got[i - 1].score, got[i].score) << index->name();
        }
      }
      EXPECT_EQ(distinct.size(), got.size()) << index->name();
    }
  }
}

TEST(ItemIndex, ExclusionsHonoured) {
  const auto& f = fixture();
  for (const ItemIndex* index : {static_cast<const ItemIndex*>(&f.exact),
                                 static_cast<const ItemIndex*>(&f.hnsw)}) {
    for (int64_t q = 0; q < 30; ++q) {
      // Exclude the true best 50 plus some others: the search must go past
      // them and still return k items.
      const auto best = f.exact.search(f.query(q), 50);
      std::vector<int64_t> excluded;
      for (const auto& b : best) excluded.push_back(b.index);
      for (int64_t i = 0; i < f.kItems; i += 97) excluded.push_back(i);
      excluded.push_back(f.kItems + 5);  // out of range: ignored
      std::sort(excluded.begin(), excluded.end());
      const auto got = index->search(f.query(q), f.kK, &excluded);
      ASSERT_EQ(static_cast<int64_t>(got.size()), f.kK) << index->name();
      for (const auto& g : got) {
        EXPECT_FALSE(std::binary_search(excluded.begin(), excluded.end(), g.index))
            << index->name() << " returned excluded item " << g.index;
      }
      // The predicate form agrees with the list form.
      const auto got_if = index->search_if(f.query(q), f.kK, [&](int64_t i) {
        return std::binary_search(excluded.begin(), excluded.end(), i);
      });
      ASSERT_EQ(got_if.size(), got.size()) << index->name();
      for (const auto& g : got_if) {
        EXPECT_FALSE(std::binary_search(excluded.begin(), excluded.end(), g.index));
      }
    }
  }
}

TEST(ItemIndex, ExcludingAlmostEverythingLeavesTheRest) {
  // Only 3 items survive: both indexes must find exactly those, even though
  // the graph search has to widen far beyond k.
  const auto& f = fixture();
  const std::set<int64_t> keep{17, 2500, 4999};
  std::vector<int64_t> excluded;
  for (int64_t i = 0; i < f.kItems; ++i) {
    if (!keep.count(i)) excluded.push_back(i);
  }
  for (const ItemIndex* index : {static_cast<const ItemIndex*>(&f.exact),
                                 static_cast<const ItemIndex*>(&f.hnsw)}) {
    const auto got = index->search(f.query(0), f.kK, &excluded);
    std::set<int64_t> ids;
    for (const auto& g : got) ids.insert(g.index);
    EXPECT_EQ(ids, keep) << index->name();
    const auto got_if =
        index->search_if(f.query(0), f.kK, [&](int64_t i) { return keep.count(i) == 0; });
    ids.clear();
    for (const auto& g : got_if) ids.insert(g.index);
    EXPECT_EQ(ids, keep) << index->name();
  }
}

TEST(ItemIndex, KLargerThanCatalogue) {
  const auto items = random_matrix(7, 4, 3);
  const auto query = random_matrix(1, 4, 4);
  const ExactIndex exact(items.data(), 7, 4);
  const HnswIndex hnsw(items.data(), 7, 4);
  EXPECT_EQ(exact.search(query.data(), 100).size(), 7u);
  EXPECT_EQ(hnsw.search(query.data(), 100).size(), 7u);
  EXPECT_DOUBLE_EQ(recall_at_k(hnsw, exact, query.data(), 1, 100), 1.0);
  const HnswIndex empty(nullptr, 0, 4);
  EXPECT_TRUE(empty.search(query.data(), 5).empty());
}

TEST(ItemIndex, BadInputsRaise) {
  const auto& f = fixture();
  for (const ItemIndex* index : {static_cast<const ItemIndex*>(&f.exact),
                                 static_cast<const ItemIndex*>(&f.hnsw)}) {
    EXPECT_THROW(index->search(f.query(0), 0), Error);
    EXPECT_THROW(index->search(f.query(0), -3), Error);
    EXPECT_THROW(index->search(nullptr, 5), Error);
    const std::vector<int64_t> unsorted{5, 3};
    EXPECT_THROW(index->search(f.query(0), 5, &unsorted), Error);
  }
  const float v[4] = {1, 2, 3, 4};
  EXPECT_THROW(ExactIndex(nullptr, 3, 4), Error);
  EXPECT_THROW(ExactIndex(v, -1, 4), Error);
  EXPECT_THROW(ExactIndex(v, 1, 0), Error);
  EXPECT_THROW(HnswIndex(nullptr, 3, 4), Error);
  EXPECT_THROW(HnswIndex(v, 1, 0), Error);
  HnswParams p;
  p.M = 1;
  EXPECT_THROW(HnswIndex(v, 1, 4, p), Error);
  p = {};
  p.ef_search = 0;
  EXPECT_THROW(HnswIndex(v, 1, 4, p), Error);
  p = {};
  p.ef_construction = 0;
  EXPECT_THROW(HnswIndex(v, 1, 4, p), Error);
  // A catalogue of a different shape cannot be compared.
  const ExactIndex other(v, 1, 4);
  EXPECT_THROW(recall_at_k(f.hnsw, other, f.queries.data(), 1, 5), Error);
  const ExactIndex fewer(f.items.data(), 10, f.kDim);
  EXPECT_THROW(recall_at_k(f.hnsw, fewer, f.queries.data(), 1, 5), Error);
  EXPECT_THROW(recall_at_k(f.hnsw, f.exact, f.queries.data(), 0, 5), Error);
  EXPECT_THROW(recall_at_k(f.hnsw, f.exact, f.queries.data(), 1, 0), Error);
}

TEST(MakeIndex, KindsAndUnknownKind) {
  const auto& f = fixture();
  EXPECT_EQ(make_index("exact", f.items.data(), 100, f.kDim)->name(), "exact");
  const auto h = make_index("hnsw", f.items.data(), 100, f.kDim);
  EXPECT_EQ(h->name(), "hnsw");
  EXPECT_EQ(h->size(), 100);
  try {
    make_index("ivf", f.items.data(), 100, f.kDim);
    FAIL() << "no error for an unknown kind";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("ivf"), std::string::npos) << msg;
    EXPECT_NE(msg.find("exact"), std::string::npos) << msg;
    EXPECT_NE(msg.find("hnsw"), std::string::npos) << msg;
  }
}

TEST(ItemIndex, ConcurrentSearchesMatchSequential) {
  const auto& f = fixture();
  for (const ItemIndex* index : {static_cast<const ItemIndex*>(&f.exact),
                                 static_cast<const ItemIndex*>(&f.hnsw)}) {
    std::vector<std::vector<ScoredItem>> sequential;
    for (int64_t q = 0; q < f.kQueries; ++q) sequential.push_back(index->search(f.query(q), f.kK));
    constexpr int kThreads = 4;
    std::vector<std::vector<std::vector<ScoredItem>>> parallel(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        // Every thread runs every query, in a different order, so the same
        // queries really do overlap in time.
        parallel[t].resize(static_cast<size_t>(f.kQueries));
        for (int64_t i = 0; i < f.kQueries; ++i) {
          const int64_t q = (i + t * f.kQueries / kThreads) % f.kQueries;
          parallel[t][static_cast<size_t>(q)] = index->search(f.query(q), f.kK);
        }
      });
    }
    for (auto& th : threads) th.join();
    for (int t = 0; t < kThreads; ++t) {
      for (int64_t q = 0; q < f.kQueries; ++q) {
        const auto& a = sequential[static_cast<size_t>(q)];
        const auto& b = parallel[t][static_cast<size_t>(q)];
        ASSERT_EQ(a.size(), b.size());
        for (size_t i = 0; i < a.size(); ++i) {
          EXPECT_EQ(a[i].index, b[i].index) << index->name() << " thread " << t << " query " << q;
          EXPECT_EQ(a[i].score, b[i].score);
        }
      }
    }
  }
}

}  // namespace
}  // namespace tandem
