#include "tandem/index/index_eval.h"

#include <gtest/gtest.h>

#include <string>

#include "tandem/core/error.h"

namespace tandem {
namespace {

std::string error_of(const IndexWorkload& w, const IndexEvalOptions& o) {
  try {
    evaluate_index(w, o);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(IndexEval, SyntheticWorkloadIsSeededAndItsCatalogueIgnoresTheQueryCount) {
  const IndexWorkload a = synthetic_workload(50, 7, 4, 3), b = synthetic_workload(50, 9, 4, 3);
  EXPECT_EQ(a.source, "synthetic");
  EXPECT_EQ(a.items.size(), 200u);
  EXPECT_EQ(a.queries.size(), 28u);
  EXPECT_EQ(a.items, b.items);
  EXPECT_EQ(a.queries, std::vector<float>(b.queries.begin(), b.queries.begin() + 28));
  EXPECT_NE(synthetic_workload(50, 7, 4, 4).items, a.items);
}

// A graph as deep as the catalogue finds every true neighbour; a one-deep
// search over a weakly connected graph misses some. Recall is a fraction, one
// point per depth in the order asked; timings are only checked for sense.
TEST(IndexEval, RecallPerDepthAgainstExactSearch) {
  IndexEvalOptions o;
  o.k = 5;
  o.hnsw.M = 2;
  o.hnsw.ef_construction = 2;
  o.hnsw.seed = 1;
  o.ef_search = {1, 400};
  const IndexEvalResult r = evaluate_index(synthetic_workload(400, 40, 8, 11), o);
  ASSERT_EQ(r.points.size(), 2u);
  EXPECT_EQ(r.points[0].ef_search, 1);
  EXPECT_EQ(r.points[1].ef_search, 400);
  for (const auto& p : r.points) {
    EXPECT_GE(p.recall_at_k, 0.0);
    EXPECT_LE(p.recall_at_k, 1.0);
    EXPECT_GE(p.hnsw_ms.p99, p.hnsw_ms.median);
    EXPECT_GE(p.hnsw_ms.median, 0.0);
  }
  EXPECT_LT(r.points[0].recall_at_k, r.points[1].recall_at_k);
  EXPECT_GE(r.exact_ms.p99, r.exact_ms.median);
  EXPECT_GE(r.exact_build_seconds, 0.0);
  EXPECT_GE(r.hnsw_build_seconds, 0.0);
  // Recall does not depend on the clock: a second run gives the same.
  const IndexEvalResult again = evaluate_index(synthetic_workload(400, 40, 8, 11), o);
  EXPECT_EQ(again.points[0].recall_at_k, r.points[0].recall_at_k);
  EXPECT_EQ(again.points[1].recall_at_k, r.points[1].recall_at_k);
}

TEST(IndexEval, ExactOnATinyCatalogue) {
  // Three items on the axes: a query along x has item 0 as its top-1, which
  // HNSW at full depth finds too.
  IndexWorkload w;
  w.source = "tiny";
  w.n_items = 3;
  w.n_queries = 1;
  w.dim = 3;
  w.items = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  w.queries = {1, 0.1f, 0};
  IndexEvalOptions o;
  o.k = 1;
  o.ef_search = {10};
  const IndexEvalResult r = evaluate_index(w, o);
  ASSERT_EQ(r.points.size(), 1u);
  EXPECT_EQ(r.points[0].recall_at_k, 1.0);
}

TEST(IndexEval, BadInputsAreErrorsNamingTheProblem) {
  IndexEvalOptions o;
  EXPECT_NE(error_of(IndexWorkload{}, o).find("nothing to measure"), std::string::npos);
  IndexWorkload w = synthetic_workload(10, 2, 4, 1);
  w.queries.pop_back();
  EXPECT_NE(error_of(w, o).find("do not match"), std::string::npos);
  w = synthetic_workload(10, 2, 4, 1);
  o.k = 0;
  EXPECT_NE(error_of(w, o).find("k must be positive"), std::string::npos);
  o.k = 3;
  o.ef_search.clear();
  EXPECT_NE(error_of(w, o).find("no ef_search"), std::string::npos);
}

}  // namespace
}  // namespace tandem
