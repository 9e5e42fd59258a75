#include "tandem/evaluate/tiled_ranking.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <utility>

#include "tandem/core/blas.h"
#include "tandem/core/error.h"
#include "tandem/core/thread_pool.h"

namespace tandem {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

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

float round_down(double x) {
  float f = static_cast<float>(x);
  if (static_cast<double>(f) > x) f = std::nextafter(f, -std::numeric_limits<float>::infinity());
  return f;
}

float round_up(double x) {
  float f = static_cast<float>(x);
  if (static_cast<double>(f) < x) f = std::nextafter(f, std::numeric_limits<float>::infinity());
  return f;
}

// How many of the ascending sorted[0 .. n) (n >= 1) are <= v.
int64_t count_not_above(const float* sorted, int64_t n, float v) {
  int64_t lo = 0, len = n;
  while (len > 1) {
    const int64_t half = len / 2;
    lo += sorted[lo + half - 1] <= v ? half : 0;
    len -= half;
  }
  return lo + (sorted[lo] <= v ? 1 : 0);
}

// What both sweeps read, and where they write.
struct Shared {
  const float* queries;
  const CandidateMatrix& c;
  const PerQueryLists& targets;
  const PerQueryLists* excluded;  // sorted, distinct; null: none
  const TargetRankOptions& options;
  std::vector<int64_t>& ranks;
  double scoring = 0.0, ranking = 0.0;
  int64_t off(int64_t q) const { return targets.offsets[static_cast<size_t>(q)]; }
};

// Queries by lowest target (then by index): a block's targets then fall in
// few item tiles.
void order_by_lowest_target(const Shared& sh, std::vector<int64_t>& order) {
  std::vector<std::pair<int64_t, int64_t>> by_target;
  for (int64_t q : order)
    by_target.emplace_back(*std::min_element(sh.targets.items.begin() + sh.off(q), sh.targets.items.begin() + sh.off(q + 1)), q);
  std::sort(by_target.begin(), by_target.end());
  for (size_t i = 0; i < order.size(); ++i) order[i] = by_target[i].second;
}

struct Worker {
  std::vector<float> block, tile;  // the block's query vectors; one tile of scores
  std::vector<int64_t> tiles;       // two sweeps: the block's target tiles
  std::vector<int64_t> beaten;      // this worker's counts
  struct Band {
    int64_t query, candidate;
    float score;
  };
  std::vector<Band> band;              // one sweep: candidates too close to a target to decide yet
  std::vector<unsigned char> overflow;  // one sweep: queries whose band grew too large
  double scoring = 0.0, ranking = 0.0;
};

// The tiling of `order` (queries) x the catalogue, and the workers' scratch.
struct Tiling {
  const Shared& sh;
  const std::vector<int64_t>& order;
  int64_t qb, ib, dim, n_active, n_blocks, n_tiles;
  int threads;
  std::vector<Worker> workers;

  Tiling(const Shared& s, const std::vector<int64_t>& o)
      : sh(s), order(o), qb(s.options.tiles.queries), ib(s.options.tiles.items), dim(s.c.dim),
        n_active(static_cast<int64_t>(o.size())), n_blocks((n_active + qb - 1) / qb),
        n_tiles((s.c.count + ib - 1) / ib), threads(s.options.threads),
        workers(static_cast<size_t>(s.options.threads)) {
    for (Worker& w : workers) {
      w.block.resize(static_cast<size_t>(qb * dim));
      w.tile.resize(static_cast<size_t>(qb * std::min(ib, s.c.count)));
    }
  }
  int64_t query(int64_t b, int64_t i) const { return order[static_cast<size_t>(b * qb + i)]; }
  // Copies block b's query vectors into w.block; returns its row count.
  int64_t gather(Worker& w, int64_t b) const {
    const int64_t rows = std::min(qb, n_active - b * qb);
    for (int64_t i = 0; i < rows; ++i) std::copy_n(sh.queries + query(b, i) * dim, dim, w.block.data() + i * dim);
    return rows;
  }
  // Scores block b (rows) against tile t into w.tile; returns (j0, cols).
  std::pair<int64_t, int64_t> score(Worker& w, int64_t rows, int64_t t) const {
    const int64_t j0 = t * ib, cols = std::min(ib, sh.c.count - j0);
    const auto start = Clock::now();
    score_tile(w.block.data(), rows, sh.c, j0, cols, w.tile.data());
    w.scoring += since(start);
    return {j0, cols};
  }
  // Every (block, tile) pair once, contiguous parts by worker index; fn(w,
  // b, rows, t, j0, cols) consumes w.tile.
  template <typename Fn>
  void for_each_tile(ThreadPool& pool, Fn&& fn) {
    const int64_t units = n_blocks * n_tiles;
    pool.run([&](int wi) {
      Worker& w = workers[static_cast<size_t>(wi)];
      const Range r = split_range(units, threads, wi);
      int64_t current = -1, rows = 0;
      for (int64_t u = r.begin; u < r.end; ++u) {
        const int64_t b = u / n_tiles, t = u % n_tiles;
        if (b != current) {
          rows = gather(w, b);
          current = b;
        }
        const auto [j0, cols] = score(w, rows, t);
        const auto start = Clock::now();
        fn(w, b, rows, j0, cols);
        w.ranking += since(start);
        if (wi == 0 && sh.options.on_progress) sh.options.on_progress(std::min(units, (u - r.begin + 1) * threads), units);
      }
    });
  }
  void add_times(Shared& s) const {
    for (const Worker& w : workers) {
      s.scoring += w.scoring;
      s.ranking += w.ranking;
    }
  }
};

// One sweep over the tiles. A target's GEMM score t is not known before its
// own tile is scored, but it lies in [lo, hi] (computed beforehand): a
// candidate scoring above hi is above t, one below lo is not, and the rare
// candidate inside [lo, hi] (a near-tie, or an exact one) is kept with its
// score until t has been read from its tile. Returns the queries whose kept
// candidates grew too many (scores bunched within rounding error: e.g. all
// equal), for the two-sweep path.
std::vector<int64_t> rank_in_one_sweep(Shared& sh, std::vector<int64_t> order, const std::vector<float>& lo,
                                       const std::vector<float>& hi) {
  if (order.empty()) return {};
  order_by_lowest_target(sh, order);
  const int64_t n = sh.targets.queries();
  const size_t n_targets = sh.targets.items.size();
  // Per query, its targets' bounds sorted: sorted_hi / sorted_lo at off(q).
  std::vector<float> sorted_hi(n_targets), sorted_lo(n_targets), target_score(n_targets);
  for (int64_t q : order) {
    const auto b = static_cast<size_t>(sh.off(q)), e = static_cast<size_t>(sh.off(q + 1));
    std::copy(hi.begin() + static_cast<std::ptrdiff_t>(b), hi.begin() + static_cast<std::ptrdiff_t>(e), sorted_hi.begin() + static_cast<std::ptrdiff_t>(b));
    std::copy(lo.begin() + static_cast<std::ptrdiff_t>(b), lo.begin() + static_cast<std::ptrdiff_t>(e), sorted_lo.begin() + static_cast<std::ptrdiff_t>(b));
    std::sort(sorted_hi.begin() + static_cast<std::ptrdiff_t>(b), sorted_hi.begin() + static_cast<std::ptrdiff_t>(e));
    std::sort(sorted_lo.begin() + static_cast<std::ptrdiff_t>(b), sorted_lo.begin() + static_cast<std::ptrdiff_t>(e));
  }
  // beaten[base(q) + k]: candidates above the hi of exactly k targets (the
  // k lowest his).
  const auto base = [&](int64_t q) { return sh.off(q) + q; };
  constexpr int64_t kMaxBandPerTile = 1024;
  constexpr size_t kMaxBandPerWorker = size_t{1} << 22;
  Tiling tiling(sh, order);
  for (Worker& w : tiling.workers) {
    w.beaten.assign(n_targets + static_cast<size_t>(n), 0);
    w.overflow.assign(static_cast<size_t>(n), 0);
  }
  ThreadPool pool(tiling.threads);
  tiling.for_each_tile(pool, [&](Worker& w, int64_t b, int64_t rows, int64_t j0, int64_t cols) {
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t q = tiling.query(b, i);
      const float* s = w.tile.data() + i * cols;
      const int64_t m = sh.off(q + 1) - sh.off(q);
      const float* shi = sorted_hi.data() + sh.off(q);
      const float* slo = sorted_lo.data() + sh.off(q);
      int64_t* beaten = w.beaten.data() + base(q);
      for (int64_t p = sh.off(q); p < sh.off(q + 1); ++p) {  // the targets' own scores
        const int64_t j = sh.targets.items[static_cast<size_t>(p)];
        if (j >= j0 && j < j0 + cols) target_score[static_cast<size_t>(p)] = s[j - j0];
      }
      const size_t band0 = w.band.size();
      if (m == 1) {
        // The common case (one test item): plain counts, which the compiler
        // vectorises; NaN compares false everywhere.
        const float h = shi[0], l = slo[0];
        int64_t above = 0, close = 0;
        for (int64_t j = 0; j < cols; ++j) {
          above += s[j] > h ? 1 : 0;
          close += ((s[j] >= l) & (s[j] <= h)) ? 1 : 0;
        }
        beaten[1] += above;
        if (close > 0)
          for (int64_t j = 0; j < cols; ++j)
            if (s[j] >= l && s[j] <= h) w.band.push_back({q, j0 + j, s[j]});
      } else {
        const float lowest = slo[0];
        for (int64_t j = 0; j < cols; ++j) {
          const float v = s[j];
          if (!(v >= lowest)) continue;
          const int64_t k = count_below(shi, m, v);  // targets whose hi is below v
          beaten[k] += 1;
          if (count_not_above(slo, m, v) > k) w.band.push_back({q, j0 + j, v});  // inside an interval
        }
      }
      if (sh.excluded) {
        const PerQueryLists& ex = *sh.excluded;
        const auto* e0 = ex.items.data() + ex.offsets[static_cast<size_t>(q)];
        const auto* e1 = ex.items.data() + ex.offsets[static_cast<size_t>(q) + 1];
        for (const int64_t* e = std::lower_bound(e0, e1, j0); e != e1 && *e < j0 + cols; ++e) {
          const float v = s[*e - j0];
          if (v >= slo[0]) beaten[count_below(shi, m, v)] -= 1;  // (kept ones are dropped at the end)
        }
      }
      if (static_cast<int64_t>(w.band.size() - band0) > kMaxBandPerTile || w.band.size() > kMaxBandPerWorker) {
        w.overflow[static_cast<size_t>(q)] = 1;
        w.band.resize(band0);
      }
    }
  });
  tiling.add_times(sh);

  std::vector<unsigned char> overflow(static_cast<size_t>(n), 0);
  std::vector<int64_t>& beaten = tiling.workers[0].beaten;
  for (size_t wi = 0; wi < tiling.workers.size(); ++wi) {
    const Worker& w = tiling.workers[wi];
    for (size_t q = 0; q < overflow.size(); ++q) overflow[q] |= w.overflow[q];
    if (wi > 0)
      for (size_t k = 0; k < beaten.size(); ++k) beaten[k] += w.beaten[k];
  }
  for (int64_t q : order) {
    if (overflow[static_cast<size_t>(q)]) continue;
    const int64_t m = sh.off(q + 1) - sh.off(q);
    int64_t* bq = beaten.data() + base(q);
    for (int64_t p = m; p > 0; --p) bq[p - 1] += bq[p];
    const float* shi = sorted_hi.data() + sh.off(q);
    for (int64_t p = sh.off(q); p < sh.off(q + 1); ++p) {
      const float t = target_score[static_cast<size_t>(p)];
      if (std::isnan(t)) continue;  // never a hit: rank stays count
      TANDEM_CHECK(t >= lo[static_cast<size_t>(p)] && t <= hi[static_cast<size_t>(p)],
                   "rank_targets: internal error: score " << t << " outside its bounds [" << lo[static_cast<size_t>(p)]
                                                          << ", " << hi[static_cast<size_t>(p)] << "]");
      // Candidates above this target's hi: those above the his of at least
      // its position + 1 targets.
      const int64_t i = std::lower_bound(shi, shi + m, hi[static_cast<size_t>(p)]) - shi;
      sh.ranks[static_cast<size_t>(p)] = bq[i + 1];
    }
  }
  // The kept candidates, now that every target's score is known: above a
  // target when above its score (and not already counted above its hi).
  for (const Worker& w : tiling.workers)
    for (const Worker::Band& e : w.band) {
      if (overflow[static_cast<size_t>(e.query)]) continue;
      if (sh.excluded) {
        const PerQueryLists& ex = *sh.excluded;
        const auto* e0 = ex.items.data() + ex.offsets[static_cast<size_t>(e.query)];
        const auto* e1 = ex.items.data() + ex.offsets[static_cast<size_t>(e.query) + 1];
        if (std::binary_search(e0, e1, e.candidate)) continue;
      }
      for (int64_t p = sh.off(e.query); p < sh.off(e.query + 1); ++p) {
        const float t = target_score[static_cast<size_t>(p)];
        if (!std::isnan(t) && e.score > t && e.score <= hi[static_cast<size_t>(p)]) sh.ranks[static_cast<size_t>(p)] += 1;
      }
    }
  std::vector<int64_t> rest;
  for (int64_t q : order)
    if (overflow[static_cast<size_t>(q)]) rest.push_back(q);
  return rest;
}

// Two sweeps, for queries whose targets' scores cannot be bounded (non-finite
// values, dimension 0) or whose near-ties are too many: sweep 1 scores, per
// query block, only the item tiles holding one of its targets and reads the
// targets' scores; sweep 2 scores every tile again, identically (same call,
// same shapes, so the same values), and counts against the known scores.
void rank_in_two_sweeps(Shared& sh, std::vector<int64_t> order) {
  if (order.empty()) return;
  order_by_lowest_target(sh, order);
  const int64_t n = sh.targets.queries();
  const size_t n_targets = sh.targets.items.size();
  Tiling tiling(sh, order);
  ThreadPool pool(tiling.threads);
  std::vector<float> target_score(n_targets), sorted(n_targets);
  std::vector<int64_t> real(static_cast<size_t>(n), 0);
  // Sweep 1: each target's score; then each query's real (non-NaN) target
  // scores, sorted, in sorted[off(q) .. off(q) + real[q]).
  pool.run([&](int wi) {
    Worker& w = tiling.workers[static_cast<size_t>(wi)];
    const Range r = split_range(tiling.n_blocks, tiling.threads, wi);
    for (int64_t b = r.begin; b < r.end; ++b) {
      const int64_t rows = tiling.gather(w, b);
      w.tiles.clear();
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t q = tiling.query(b, i);
        for (int64_t p = sh.off(q); p < sh.off(q + 1); ++p) w.tiles.push_back(sh.targets.items[static_cast<size_t>(p)] / tiling.ib);
      }
      std::sort(w.tiles.begin(), w.tiles.end());
      w.tiles.erase(std::unique(w.tiles.begin(), w.tiles.end()), w.tiles.end());
      for (int64_t t : w.tiles) {
        const auto [j0, cols] = tiling.score(w, rows, t);
        for (int64_t i = 0; i < rows; ++i) {
          const int64_t q = tiling.query(b, i);
          for (int64_t p = sh.off(q); p < sh.off(q + 1); ++p) {
            const int64_t j = sh.targets.items[static_cast<size_t>(p)];
            if (j >= j0 && j < j0 + cols) target_score[static_cast<size_t>(p)] = w.tile[static_cast<size_t>(i * cols + j - j0)];
          }
        }
      }
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t q = tiling.query(b, i);
        float* s = sorted.data() + sh.off(q);
        int64_t m = 0;
        for (int64_t p = sh.off(q); p < sh.off(q + 1); ++p)
          if (!std::isnan(target_score[static_cast<size_t>(p)])) s[m++] = target_score[static_cast<size_t>(p)];
        std::sort(s, s + m);
        real[static_cast<size_t>(q)] = m;
      }
    }
  });
  // Sweep 2: beaten[base(q) + k] = candidates above exactly k of the query's
  // sorted real target scores.
  const auto base = [&](int64_t q) { return sh.off(q) + q; };
  for (Worker& w : tiling.workers) w.beaten.assign(n_targets + static_cast<size_t>(n), 0);
  tiling.for_each_tile(pool, [&](Worker& w, int64_t b, int64_t rows, int64_t j0, int64_t cols) {
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t q = tiling.query(b, i);
      const int64_t m = real[static_cast<size_t>(q)];
      if (m == 0) continue;
      const float* s = w.tile.data() + i * cols;
      const float* sq = sorted.data() + sh.off(q);
      int64_t* beaten = w.beaten.data() + base(q);
      for (int64_t j = 0; j < cols; ++j)
        if (s[j] > sq[0]) beaten[count_below(sq, m, s[j])] += 1;  // NaN compares false: never higher
      if (sh.excluded) {
        const PerQueryLists& ex = *sh.excluded;
        const auto* e0 = ex.items.data() + ex.offsets[static_cast<size_t>(q)];
        const auto* e1 = ex.items.data() + ex.offsets[static_cast<size_t>(q) + 1];
        for (const int64_t* e = std::lower_bound(e0, e1, j0); e != e1 && *e < j0 + cols; ++e)
          if (s[*e - j0] > sq[0]) beaten[count_below(sq, m, s[*e - j0])] -= 1;
      }
    }
  });
  tiling.add_times(sh);
  std::vector<int64_t>& beaten = tiling.workers[0].beaten;
  for (size_t wi = 1; wi < tiling.workers.size(); ++wi)
    for (size_t k = 0; k < beaten.size(); ++k) beaten[k] += tiling.workers[wi].beaten[k];
  for (int64_t q : order) {
    const int64_t m = real[static_cast<size_t>(q)];
    if (m == 0) continue;
    int64_t* bq = beaten.data() + base(q);
    for (int64_t p = m; p > 0; --p) bq[p - 1] += bq[p];
    const float* sq = sorted.data() + sh.off(q);
    for (int64_t p = sh.off(q); p < sh.off(q + 1); ++p) {
      const float v = target_score[static_cast<size_t>(p)];
      if (std::isnan(v)) continue;  // never a hit: rank stays count
      // Candidates above v = those above sorted[i], i = the first index
      // holding v: bq[i + 1].
      const int64_t i = std::lower_bound(sq, sq + m, v) - sq;
      sh.ranks[static_cast<size_t>(p)] = bq[i + 1];
    }
  }
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

  // Each target's exact score interval (below) decides which sweep ranks
  // its query: one sweep where every interval is finite, two otherwise.
  std::vector<float> lo(targets.items.size()), hi(targets.items.size());
  std::vector<int64_t> one_sweep, two_sweeps;
  for (int64_t q = 0; q < n; ++q) {
    if (off(q) == off(q + 1)) continue;
    bool finite = true;
    for (int64_t p = off(q); p < off(q + 1); ++p) {
      const float* x = queries + q * c.dim;
      const float* y = c.data + targets.items[static_cast<size_t>(p)] * c.dim;
      double dot = 0, magnitude = 0;
      for (int64_t k = 0; k < c.dim; ++k) {
        dot += static_cast<double>(x[k]) * y[k];
        magnitude += std::abs(static_cast<double>(x[k]) * y[k]);
      }
      // Whatever order and fusing of the sum a GEMM uses, its float result
      // is within gamma_dim * sum |x_k y_k| of the exact dot product
      // (Higham, Accuracy and Stability, 3.1); a margin on top, and a tiny
      // absolute term for subnormals.
      const double err = magnitude * static_cast<double>(c.dim + 4) * 0x1p-24 + 1e-35;
      finite = finite && std::isfinite(dot) && magnitude < 1e37 && c.dim > 0;
      lo[static_cast<size_t>(p)] = round_down(dot - err);
      hi[static_cast<size_t>(p)] = round_up(dot + err);
    }
    (finite ? one_sweep : two_sweeps).push_back(q);
  }
  Shared shared{queries, c, targets, excluded ? &ex : nullptr, options, ranks};
  std::vector<int64_t> overflow = rank_in_one_sweep(shared, one_sweep, lo, hi);
  two_sweeps.insert(two_sweeps.end(), overflow.begin(), overflow.end());
  rank_in_two_sweeps(shared, two_sweeps);
  if (times) {
    times->scoring += shared.scoring;
    times->ranking += shared.ranking;
  }
  return ranks;
}

}  // namespace tandem
