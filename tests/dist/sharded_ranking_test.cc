// rank_targets_sharded on 1-3 ranks against rank_targets in one process:
// the same ranks, with excluded candidates, repeated rows (a candidate set
// with copies), repeated targets and a NaN query.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <mutex>

#include "tandem/core/random.h"
#include "tandem/dist/thread_communicator.h"
#include "tandem/evaluate/sharded_ranking.h"

namespace tandem {
namespace {

TEST(ShardedRanking, RanksAreThoseOfOneProcess) {
  constexpr int64_t kRows = 53, kDim = 5, kQueries = 300;
  Rng rng(17);
  EmbeddingTable whole(kRows, kDim);
  whole.init_uniform(rng, -1.0f, 1.0f);
  // Candidates: every row, then 9 rows again (copies), shuffled.
  std::vector<int32_t> rows;
  for (int32_t r = 0; r < kRows; ++r) rows.push_back(r);
  for (int32_t r = 0; r < 9; ++r) rows.push_back(r * 5);
  for (size_t i = rows.size() - 1; i > 0; --i) std::swap(rows[i], rows[rng.below(i + 1)]);
  const auto count = static_cast<int64_t>(rows.size());
  std::vector<float> matrix;
  for (int32_t r : rows) matrix.insert(matrix.end(), whole.row(r), whole.row(r) + kDim);
  std::vector<float> queries(static_cast<size_t>(kQueries * kDim));
  for (float& x : queries) x = rng.uniform(-1.0f, 1.0f);
  for (int64_t k = 0; k < kDim; ++k) queries[static_cast<size_t>(7 * kDim + k)] = std::numeric_limits<float>::quiet_NaN();
  PerQueryLists targets, excluded;
  for (int64_t q = 0; q < kQueries; ++q) {
    std::vector<int64_t> t, ex;
    const int64_t nt = static_cast<int64_t>(rng.below(4));
    for (int64_t i = 0; i < nt; ++i) t.push_back(static_cast<int64_t>(rng.below(static_cast<uint64_t>(count))));
    if (q % 10 == 0 && !t.empty()) t.push_back(t.front());  // a repeated target
    for (int64_t i = 0; i < 6; ++i) {
      const auto j = static_cast<int64_t>(rng.below(static_cast<uint64_t>(count)));
      // Never a target, nor a copy of a target's row.
      bool clash = false;
      for (int64_t x : t) clash = clash || rows[static_cast<size_t>(x)] == rows[static_cast<size_t>(j)];
      if (!clash) ex.push_back(j);
    }
    targets.add(t.data(), t.data() + t.size());
    excluded.add(ex.data(), ex.data() + ex.size());
  }
  TargetRankOptions options;
  const CandidateMatrix cm{matrix.data(), count, kDim};
  const std::vector<const PerQueryLists*> exclusions = {nullptr, &excluded};
  for (const PerQueryLists* ex : exclusions) {
    const std::vector<int64_t> alone = rank_targets(queries.data(), cm, targets, ex, options);
    for (int ranks : {1, 2, 3}) {
      for (int threads : {1, 2}) {
        SCOPED_TRACE(testing::Message() << ranks << " ranks, " << threads << " threads, "
                                        << (ex ? "with" : "without") << " exclusions");
        std::mutex mu;
        std::vector<std::vector<int64_t>> got(static_cast<size_t>(ranks));
        run_ranks(ranks, [&](Communicator& comm) {
          const TableShard shard{comm.rank(), ranks};
          EmbeddingTable mine(shard.rows_of(kRows), kDim);
          for (int64_t l = 0; l < mine.rows; ++l)
            std::copy_n(whole.row(shard.global(l)), kDim, mine.row(l));
          const ShardedCandidates cs{&rows, &mine, shard};
          std::vector<int64_t> r = rank_targets_sharded(comm, queries.data(), kDim, cs, targets, ex, threads);
          std::lock_guard<std::mutex> lock(mu);
          got[static_cast<size_t>(comm.rank())] = std::move(r);
        });
        for (int k = 0; k < ranks; ++k) EXPECT_EQ(got[static_cast<size_t>(k)], alone) << "rank " << k;
      }
    }
  }
}

}  // namespace
}  // namespace tandem
