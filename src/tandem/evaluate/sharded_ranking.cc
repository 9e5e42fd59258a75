#include "tandem/evaluate/sharded_ranking.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>

#include "tandem/core/blas.h"
#include "tandem/core/error.h"
#include "tandem/core/thread_pool.h"

namespace tandem {

namespace {

constexpr int64_t kQueryBlock = 256, kItemTile = 2048;

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

std::vector<int64_t> rank_targets_sharded(Communicator& comm, const float* queries, int64_t dim,
                                          const ShardedCandidates& cs, const PerQueryLists& targets,
                                          const PerQueryLists* excluded, int threads, TargetRankTimes* times) {
  TANDEM_CHECK(cs.item_rows != nullptr && cs.table != nullptr, "sharded ranking: no candidates");
  TANDEM_CHECK(cs.shard.ranks == comm.size() && cs.shard.rank == comm.rank(),
               "sharded ranking: the table is rank " << cs.shard.rank << " of " << cs.shard.ranks
                                                     << "'s shard, the job's rank " << comm.rank());
  TANDEM_CHECK(cs.table->dim == dim, "sharded ranking: vectors of " << cs.table->dim << " for queries of " << dim);
  const std::vector<int32_t>& rows = *cs.item_rows;
  const auto count = static_cast<int64_t>(rows.size());
  const int64_t nq = targets.queries();
  TANDEM_CHECK(!excluded || excluded->queries() == nq, "sharded ranking: excluded lists for "
                                                           << excluded->queries() << " of " << nq << " queries");
  for (int64_t t : targets.items) TANDEM_CHECK(t >= 0 && t < count, "sharded ranking: target " << t << " outside the candidates");
  // This rank's candidates, their vectors, and each candidate's local position.
  std::vector<int64_t> local_pos(static_cast<size_t>(count), -1);
  std::vector<float> mine;
  int64_t owned = 0;
  for (int64_t j = 0; j < count; ++j) {
    const int32_t row = rows[static_cast<size_t>(j)];
    if (cs.shard.owner(row) != cs.shard.rank) continue;
    const int64_t local = cs.shard.local(row);
    TANDEM_CHECK(local < cs.table->rows, "sharded ranking: item row " << row << " is outside the table");
    local_pos[static_cast<size_t>(j)] = owned++;
    mine.insert(mine.end(), cs.table->row(local), cs.table->row(local) + dim);
  }
  // Every target's score, computed by the rank holding it and shared.
  const auto entries = static_cast<int64_t>(targets.items.size());
  std::vector<float> threshold(static_cast<size_t>(entries), 0.0f);
  for (int64_t q = 0; q < nq; ++q) {
    for (int64_t e = targets.offsets[static_cast<size_t>(q)]; e < targets.offsets[static_cast<size_t>(q) + 1]; ++e) {
      const int64_t p = local_pos[static_cast<size_t>(targets.items[static_cast<size_t>(e)])];
      if (p < 0) continue;
      double dot = 0.0;
      for (int64_t k = 0; k < dim; ++k)
        dot += static_cast<double>(queries[q * dim + k]) * mine[static_cast<size_t>(p * dim + k)];
      threshold[static_cast<size_t>(e)] = static_cast<float>(dot);
    }
  }
  comm.ordered_sum(threshold.data(), entries, TrafficKind::kControl);

  // Per query: its finite thresholds ascending (entry numbers alongside),
  // and its excluded candidates that this rank holds, as local positions.
  std::vector<int64_t> sorted_entry(static_cast<size_t>(entries));
  std::vector<float> sorted_threshold(static_cast<size_t>(entries));
  std::vector<int64_t> finite_end(static_cast<size_t>(nq));  // offsets[q] + finite count
  for (int64_t q = 0; q < nq; ++q) {
    const int64_t b = targets.offsets[static_cast<size_t>(q)], e = targets.offsets[static_cast<size_t>(q) + 1];
    int64_t m = b;
    for (int64_t i = b; i < e; ++i)
      if (!std::isnan(threshold[static_cast<size_t>(i)])) sorted_entry[static_cast<size_t>(m++)] = i;
    std::sort(sorted_entry.begin() + b, sorted_entry.begin() + m, [&](int64_t x, int64_t y) {
      return threshold[static_cast<size_t>(x)] < threshold[static_cast<size_t>(y)];
    });
    for (int64_t i = b; i < m; ++i) sorted_threshold[static_cast<size_t>(i)] = threshold[static_cast<size_t>(sorted_entry[static_cast<size_t>(i)])];
    finite_end[static_cast<size_t>(q)] = m;
  }
  PerQueryLists local_excluded;
  if (excluded != nullptr) {
    std::vector<int64_t> ex;
    for (int64_t q = 0; q < nq; ++q) {
      ex.clear();
      for (int64_t i = excluded->offsets[static_cast<size_t>(q)]; i < excluded->offsets[static_cast<size_t>(q) + 1]; ++i) {
        const int64_t j = excluded->items[static_cast<size_t>(i)];
        TANDEM_CHECK(j >= 0 && j < count, "sharded ranking: excluded candidate " << j << " outside the candidates");
        if (local_pos[static_cast<size_t>(j)] >= 0) ex.push_back(local_pos[static_cast<size_t>(j)]);
      }
      std::sort(ex.begin(), ex.end());
      ex.erase(std::unique(ex.begin(), ex.end()), ex.end());
      local_excluded.add(ex.data(), ex.data() + ex.size());
    }
  }

  // Per query, the candidates held here that are its targets' rows (the
  // target itself, and its copies where the candidate set repeats a row):
  // (local position, entry), by position, and the score each gets in its
  // tile. They score what the target scores, so they never rank above it.
  std::vector<std::pair<int32_t, int64_t>> by_row;  // (item row, local position)
  for (int64_t j = 0; j < count; ++j)
    if (local_pos[static_cast<size_t>(j)] >= 0) by_row.emplace_back(rows[static_cast<size_t>(j)], local_pos[static_cast<size_t>(j)]);
  std::sort(by_row.begin(), by_row.end());
  PerQueryLists same_row;
  std::vector<int64_t> same_row_entry;
  {
    std::vector<std::pair<int64_t, int64_t>> pe;
    std::vector<int64_t> pos;
    for (int64_t q = 0; q < nq; ++q) {
      pe.clear();
      for (int64_t e = targets.offsets[static_cast<size_t>(q)]; e < targets.offsets[static_cast<size_t>(q) + 1]; ++e) {
        const int64_t t = targets.items[static_cast<size_t>(e)];
        if (local_pos[static_cast<size_t>(t)] < 0) continue;
        const int32_t row = rows[static_cast<size_t>(t)];
        auto it = std::lower_bound(by_row.begin(), by_row.end(), std::make_pair(row, int64_t{-1}));
        for (; it != by_row.end() && it->first == row; ++it) pe.emplace_back(it->second, e);
      }
      std::sort(pe.begin(), pe.end());
      pos.clear();
      for (const auto& [p, e] : pe) {
        pos.push_back(p);
        same_row_entry.push_back(e);
      }
      same_row.add(pos.data(), pos.data() + pos.size());
    }
  }
  std::vector<float> same_row_score(same_row.items.size(), std::numeric_limits<float>::quiet_NaN());

  // Counting: query blocks x this rank's candidate tiles, one GEMM each.
  // above[e] = candidates held here scoring strictly higher than entry e's
  // threshold, not excluded, the target itself aside.
  std::vector<double> above(static_cast<size_t>(entries), 0.0);
  const int workers = std::max(1, threads);
  std::vector<TargetRankTimes> worker_times(static_cast<size_t>(workers));
  const int64_t blocks = (nq + kQueryBlock - 1) / kQueryBlock;
  auto work = [&](int w) {
    const Range r = split_range(blocks, workers, w);
    std::vector<float> tile(static_cast<size_t>(kQueryBlock * kItemTile));
    std::vector<int64_t> hist;
    for (int64_t blk = r.begin; blk < r.end; ++blk) {
      const int64_t q0 = blk * kQueryBlock, qn = std::min(kQueryBlock, nq - q0);
      // hist[q]: per query, candidates by how many of its thresholds they exceed.
      const int64_t hb = targets.offsets[static_cast<size_t>(q0)];
      hist.assign(static_cast<size_t>(targets.offsets[static_cast<size_t>(q0 + qn)] - hb + qn), 0);
      std::vector<int64_t> ex_at(static_cast<size_t>(qn), 0), own_at(static_cast<size_t>(qn), 0);
      for (int64_t j0 = 0; j0 < owned; j0 += kItemTile) {
        const int64_t cols = std::min(kItemTile, owned - j0);
        auto t0 = std::chrono::steady_clock::now();
        if (dim > 0) {
          blas::gemm(false, true, qn, cols, dim, 1.0f, queries + q0 * dim, dim, mine.data() + j0 * dim, dim, 0.0f,
                     tile.data(), cols);
        } else {
          std::fill_n(tile.data(), qn * cols, 0.0f);
        }
        worker_times[static_cast<size_t>(w)].scoring += since(t0);
        t0 = std::chrono::steady_clock::now();
        for (int64_t i = 0; i < qn; ++i) {
          const int64_t q = q0 + i;
          const int64_t b = targets.offsets[static_cast<size_t>(q)], m = finite_end[static_cast<size_t>(q)];
          if (m == b) continue;
          const float* thr = sorted_threshold.data() + b;
          int64_t* h = hist.data() + (b - hb) + i;  // this query's m - b + 1 slots
          const float* s = tile.data() + i * cols;
          const int64_t* ex = nullptr;
          int64_t ex_n = 0;
          int64_t& at = ex_at[static_cast<size_t>(i)];
          if (excluded != nullptr) {
            ex = local_excluded.items.data() + local_excluded.offsets[static_cast<size_t>(q)];
            ex_n = local_excluded.offsets[static_cast<size_t>(q) + 1] - local_excluded.offsets[static_cast<size_t>(q)];
          }
          const int64_t o0 = same_row.offsets[static_cast<size_t>(q)];
          const int64_t own_n = same_row.offsets[static_cast<size_t>(q) + 1] - o0;
          int64_t& oat = own_at[static_cast<size_t>(i)];
          for (int64_t c = 0; c < cols; ++c) {
            const int64_t pos = j0 + c;
            while (oat < own_n && same_row.items[static_cast<size_t>(o0 + oat)] < pos) ++oat;
            while (at < ex_n && ex[at] < pos) ++at;
            if (at < ex_n && ex[at] == pos) continue;
            const float x = s[c];
            for (; oat < own_n && same_row.items[static_cast<size_t>(o0 + oat)] == pos; ++oat)
              same_row_score[static_cast<size_t>(o0 + oat)] = x;
            // How many thresholds x exceeds (NaN exceeds none).
            const int64_t k = std::upper_bound(thr, thr + (m - b), x,
                                               [](float v, float t) { return !(v > t); }) - thr;
            h[k] += 1;
          }
        }
        worker_times[static_cast<size_t>(w)].ranking += since(t0);
      }
      // Entry sorted i is exceeded by the candidates counted at k > i.
      for (int64_t i = 0; i < qn; ++i) {
        const int64_t q = q0 + i;
        const int64_t b = targets.offsets[static_cast<size_t>(q)], m = finite_end[static_cast<size_t>(q)];
        const int64_t* h = hist.data() + (b - hb) + i;
        int64_t running = 0;
        for (int64_t k = m - b; k >= 1; --k) {
          running += h[k];
          above[static_cast<size_t>(sorted_entry[static_cast<size_t>(b + k - 1)])] = static_cast<double>(running);
        }
      }
    }
  };
  {
    blas::ScopedThreads single(1);
    if (workers == 1) {
      work(0);
    } else {
      ThreadPool pool(workers);
      pool.run(work);
    }
  }
  // A target held here (or a copy of its row) was compared with the target's
  // shared score: take it out where its score in the tile came out above.
  for (size_t i = 0; i < same_row_score.size(); ++i) {
    const auto e = static_cast<size_t>(same_row_entry[i]);
    if (same_row_score[i] > threshold[e]) above[e] -= 1.0;
  }
  comm.ordered_sum(above.data(), entries, TrafficKind::kControl);
  std::vector<int64_t> ranks(static_cast<size_t>(entries));
  for (int64_t e = 0; e < entries; ++e)
    ranks[static_cast<size_t>(e)] = std::isnan(threshold[static_cast<size_t>(e)]) ? count : static_cast<int64_t>(above[static_cast<size_t>(e)]);
  if (times != nullptr)
    for (const auto& t : worker_times) {
      times->scoring += t.scoring;
      times->ranking += t.ranking;
    }
  return ranks;
}

}  // namespace tandem
