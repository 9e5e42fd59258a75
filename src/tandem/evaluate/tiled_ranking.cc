#include "tandem/evaluate/tiled_ranking.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "tandem/core/blas.h"
#include "tandem/core/error.h"
#include "tandem/core/thread_pool.h"

namespace tandem {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The kernel parallelises over tiles itself: the BLAS runs single-threaded
// inside it, and gets its thread count back afterwards (even on an error).
class SingleThreadedBlas {
 public:
  SingleThreadedBlas() : saved_(blas::threads()) { blas::set_threads(1); }
  ~SingleThreadedBlas() { blas::set_threads(saved_); }
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  int saved_;
};

// How many of the ascending sorted[0 .. n) (n >= 1) are < v, without
// data-dependent branches (random scores make every step of a branching
// binary search a coin flip).
int64_t count_below(const float* sorted, int64_t n, float v) {
  int64_t lo = 0, len = n;
  while (len > 1) {
    const int64_t half = len / 2;
    lo += sorted[lo + half - 1] < v ? half : 0;
    len -= half;
  }
  return lo + (sorted[lo] < v ? 1 : 0);
}

void check_lists(const PerQueryLists& l, int64_t n_queries, int64_t count, const char* what) {
  TANDEM_CHECK(!l.offsets.empty() && l.offsets.front() == 0 &&
                   l.offsets.back() == static_cast<int64_t>(l.items.size()),
               "rank_targets: malformed " << what << " lists");
  TANDEM_CHECK(l.queries() == n_queries,
               "rank_targets: " << l.queries() << " " << what << " lists for " << n_queries << " queries");
  for (int64_t q = 0; q < n_queries; ++q) {
    TANDEM_CHECK(l.offsets[static_cast<size_t>(q)] <= l.offsets[static_cast<size_t>(q) + 1],
                 "rank_targets: malformed " << what << " lists at query " << q);
    for (int64_t p = l.offsets[static_cast<size_t>(q)]; p < l.offsets[static_cast<size_t>(q) + 1]; ++p) {
      const int64_t j = l.items[static_cast<size_t>(p)];
      TANDEM_CHECK(j >= 0 && j < count, "rank_targets: query " << q << " has " << what << " index " << j
                                                                << ", outside [0, " << count << ")");
    }
  }
}

// One tile of scores: queries [rows, dim] against candidates [j0, j0 + cols)
// into out[rows, cols]. dim == 0 is special-cased because BLAS rejects a
// leading dimension of 0 rather than producing the (all-zero) empty product.
void score_tile(const float* queries, int64_t rows, const CandidateMatrix& c, int64_t j0, int64_t cols,
                float* out) {
  if (c.dim == 0) {
    std::fill(out, out + rows * cols, 0.0f);
    return;
  }
  blas::gemm(false, true, rows, cols, c.dim, 1.0f, queries, c.dim, c.data + j0 * c.dim, c.dim, 0.0f, out,
             cols);
}

}  // namespace

std::vector<int64_t> rank_targets(const float* queries, const CandidateMatrix& c,
                                  const PerQueryLists& targets, const PerQueryLists* excluded,
                                  const TargetRankOptions& options, TargetRankTimes* times) {
  const int64_t n = targets.queries();
  TANDEM_CHECK(c.count >= 0 && c.dim >= 0, "rank_targets: bad candidate matrix (" << c.count << " x " << c.dim << ")");
  TANDEM_CHECK(c.count == 0 || c.data != nullptr, "rank_targets: candidate data is null but count is " << c.count);
  TANDEM_CHECK(n == 0 || queries != nullptr, "rank_targets: queries is null but there are " << n << " queries");
  TANDEM_CHECK(options.tiles.queries >= 1 && options.tiles.items >= 1,
               "rank_targets: tile " << options.tiles.queries << " x " << options.tiles.items << " is empty");
  TANDEM_CHECK(options.threads >= 1, "rank_targets: threads must be >= 1, got " << options.threads);
  check_lists(targets, n, c.count, "target");
  if (excluded) check_lists(*excluded, n, c.count, "excluded");

  const auto off = [&](int64_t q) { return targets.offsets[static_cast<size_t>(q)]; };
  std::vector<int64_t> ranks(targets.items.size(), c.count);
  if (c.count == 0 || targets.items.empty()) return ranks;

  // Exclusions sorted and distinct, so that a tile's share is a range.
  PerQueryLists ex;
  if (excluded) {
    std::vector<int64_t> list;
    for (int64_t q = 0; q < n; ++q) {
      list.assign(excluded->items.begin() + excluded->offsets[static_cast<size_t>(q)],
                  excluded->items.begin() + excluded->offsets[static_cast<size_t>(q) + 1]);
      std::sort(list.begin(), list.end());
      list.erase(std::unique(list.begin(), list.end()), list.end());
      for (int64_t p = off(q); p < off(q + 1); ++p)
        TANDEM_CHECK(!std::binary_search(list.begin(), list.end(), targets.items[static_cast<size_t>(p)]),
                     "rank_targets: query " << q << " has candidate " << targets.items[static_cast<size_t>(p)]
                                            << " both as a target and excluded");
      ex.add(list.data(), list.data() + list.size());
    }
  }

  // Queries with a target, by lowest target (then by index): a block's
  // targets then fall in few item tiles.
  std::vector<std::pair<int64_t, int64_t>> by_target;
  for (int64_t q = 0; q < n; ++q) {
    if (off(q) == off(q + 1)) continue;
    by_target.emplace_back(*std::min_element(targets.items.begin() + off(q), targets.items.begin() + off(q + 1)), q);
  }
  std::sort(by_target.begin(), by_target.end());
  std::vector<int64_t> order(by_target.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = by_target[i].second;

  const int64_t qb = options.tiles.queries, ib = options.tiles.items, dim = c.dim;
  const auto n_active = static_cast<int64_t>(order.size());
  const int64_t n_blocks = (n_active + qb - 1) / qb, n_tiles = (c.count + ib - 1) / ib;
  const int threads = options.threads;

  struct Worker {
    std::vector<float> block, tile;  // the block's query vectors; one tile of scores
    std::vector<int64_t> tiles;       // sweep 1: the block's target tiles
    std::vector<int64_t> beaten;      // sweep 2: this worker's counts
    double scoring = 0.0, ranking = 0.0;
  };
  std::vector<Worker> workers(static_cast<size_t>(threads));
  const auto gather_block = [&](Worker& w, int64_t b) {
    const int64_t rows = std::min(qb, n_active - b * qb);
    w.block.resize(static_cast<size_t>(qb * dim));
    for (int64_t i = 0; i < rows; ++i)
      std::copy_n(queries + order[static_cast<size_t>(b * qb + i)] * dim, dim, w.block.data() + i * dim);
    return rows;
  };

  // Sweep 1: each target's score; then each query's real (non-NaN) target
  // scores, sorted, in `sorted[off(q) .. off(q) + real[q])`.
  std::vector<float> target_score(targets.items.size()), sorted(targets.items.size());
  std::vector<int64_t> real(static_cast<size_t>(n), 0);
  SingleThreadedBlas single_threaded;
  ThreadPool pool(threads);
  pool.run([&](int wi) {
    Worker& w = workers[static_cast<size_t>(wi)];
    w.tile.resize(static_cast<size_t>(qb * std::min(ib, c.count)));
    const Range r = split_range(n_blocks, threads, wi);
    for (int64_t b = r.begin; b < r.end; ++b) {
      const int64_t rows = gather_block(w, b);
      w.tiles.clear();
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t q = order[static_cast<size_t>(b * qb + i)];
        for (int64_t p = off(q); p < off(q + 1); ++p) w.tiles.push_back(targets.items[static_cast<size_t>(p)] / ib);
      }
      std::sort(w.tiles.begin(), w.tiles.end());
      w.tiles.erase(std::unique(w.tiles.begin(), w.tiles.end()), w.tiles.end());
      for (int64_t t : w.tiles) {
        const int64_t j0 = t * ib, cols = std::min(ib, c.count - j0);
        const auto start = Clock::now();
        score_tile(w.block.data(), rows, c, j0, cols, w.tile.data());
        w.scoring += since(start);
        for (int64_t i = 0; i < rows; ++i) {
          const int64_t q = order[static_cast<size_t>(b * qb + i)];
          for (int64_t p = off(q); p < off(q + 1); ++p) {
            const int64_t j = targets.items[static_cast<size_t>(p)];
            if (j / ib == t) target_score[static_cast<size_t>(p)] = w.tile[static_cast<size_t>(i * cols + j - j0)];
          }
        }
      }
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t q = order[static_cast<size_t>(b * qb + i)];
        float* s = sorted.data() + off(q);
        int64_t m = 0;
        for (int64_t p = off(q); p < off(q + 1); ++p)
          if (!std::isnan(target_score[static_cast<size_t>(p)])) s[m++] = target_score[static_cast<size_t>(p)];
        std::sort(s, s + m);
        real[static_cast<size_t>(q)] = m;
      }
    }
  });

  // Sweep 2: per query, beaten[base(q) + p] = candidates above exactly p of
  // its sorted real target scores (base(q) = off(q) + q leaves room for p up
  // to the list's length).
  const auto base = [&](int64_t q) { return off(q) + q; };
  const int64_t units = n_blocks * n_tiles;
  pool.run([&](int wi) {
    Worker& w = workers[static_cast<size_t>(wi)];
    w.beaten.assign(targets.items.size() + static_cast<size_t>(n), 0);
    const Range r = split_range(units, threads, wi);
    int64_t current = -1, rows = 0;
    for (int64_t u = r.begin; u < r.end; ++u) {
      const int64_t b = u / n_tiles, t = u % n_tiles;
      if (b != current) {
        rows = gather_block(w, b);
        current = b;
      }
      const int64_t j0 = t * ib, cols = std::min(ib, c.count - j0);
      auto start = Clock::now();
      score_tile(w.block.data(), rows, c, j0, cols, w.tile.data());
      w.scoring += since(start);
      start = Clock::now();
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t q = order[static_cast<size_t>(b * qb + i)];
        const int64_t m = real[static_cast<size_t>(q)];
        if (m == 0) continue;
        const float* s = w.tile.data() + i * cols;
        const float* sq = sorted.data() + off(q);
        int64_t* beaten = w.beaten.data() + base(q);
        const float lowest = sq[0];
        if (m == 1) {
          // The common case (one test item): a plain count, which the
          // compiler vectorises. NaN compares false: never higher.
          int64_t above = 0;
          for (int64_t j = 0; j < cols; ++j) above += s[j] > lowest ? 1 : 0;
          beaten[1] += above;
        } else {
          for (int64_t j = 0; j < cols; ++j)
            if (s[j] > lowest) beaten[count_below(sq, m, s[j])] += 1;
        }
        if (excluded) {
          const auto* e0 = ex.items.data() + ex.offsets[static_cast<size_t>(q)];
          const auto* e1 = ex.items.data() + ex.offsets[static_cast<size_t>(q) + 1];
          for (const int64_t* e = std::lower_bound(e0, e1, j0); e != e1 && *e < j0 + cols; ++e) {
            const float v = s[*e - j0];
            if (v > lowest) beaten[count_below(sq, m, v)] -= 1;
          }
        }
      }
      w.ranking += since(start);
      if (wi == 0 && options.on_progress) options.on_progress((u - r.begin + 1) * threads, units);
    }
  });

  // Sum the workers' counts (integers: the order does not matter), then
  // suffix sums: candidates above at least p of the query's target scores.
  std::vector<int64_t>& beaten = workers[0].beaten;
  for (size_t wi = 1; wi < workers.size(); ++wi)
    for (size_t k = 0; k < beaten.size(); ++k) beaten[k] += workers[wi].beaten[k];
  for (int64_t q = 0; q < n; ++q) {
    const int64_t m = real[static_cast<size_t>(q)];
    if (m == 0) continue;
    int64_t* bq = beaten.data() + base(q);
    for (int64_t p = m; p > 0; --p) bq[p - 1] += bq[p];
    const float* sq = sorted.data() + off(q);
    for (int64_t p = off(q); p < off(q + 1); ++p) {
      const float v = target_score[static_cast<size_t>(p)];
      if (std::isnan(v)) continue;  // never a hit: rank stays count
      // Candidates above v = those above sorted[i], i = the first index
      // holding v: bq[i + 1].
      const int64_t i = std::lower_bound(sq, sq + m, v) - sq;
      ranks[static_cast<size_t>(p)] = bq[i + 1];
    }
  }
  if (times) {
    for (const Worker& w : workers) {
      times->scoring += w.scoring;
      times->ranking += w.ranking;
    }
  }
  return ranks;
}

}  // namespace tandem
