#include "tandem/evaluate/topk.h"

#include <algorithm>
#include <cmath>

#include "tandem/core/blas.h"
#include "tandem/core/error.h"
#include "tandem/evaluate/tiled_ranking.h"

namespace tandem {

namespace {

// Bounds the GEMM scratch to ~16 MB whatever the catalogue size, while keeping
// blocks tall enough (up to 1024 rows) for the GEMM to run at full speed.
constexpr int64_t kMaxScratchFloats = int64_t{4} << 20;
constexpr int64_t kMaxBlockRows = 1024;

int64_t block_rows(int64_t n_queries, int64_t count) {
  int64_t rows = kMaxScratchFloats / std::max<int64_t>(count, 1);
  rows = std::clamp<int64_t>(rows, 1, kMaxBlockRows);
  return std::min(rows, std::max<int64_t>(n_queries, 1));
}

void check_inputs(const char* fn, const float* queries, int64_t n_queries,
                  const CandidateMatrix& c) {
  TANDEM_CHECK(n_queries >= 0, fn << ": n_queries must be >= 0, got " << n_queries);
  TANDEM_CHECK(c.count >= 0, fn << ": candidate count must be >= 0, got " << c.count);
  TANDEM_CHECK(c.dim >= 0, fn << ": dim must be >= 0, got " << c.dim);
  TANDEM_CHECK(n_queries == 0 || queries != nullptr,
               fn << ": queries is null but n_queries is " << n_queries);
  TANDEM_CHECK(c.count == 0 || c.data != nullptr,
               fn << ": candidate data is null but count is " << c.count);
}

// Scores of queries [row0, row0 + rows) against every candidate, into
// scratch[rows, count]. dim == 0 is special-cased because BLAS rejects a
// leading dimension of 0 rather than producing the (all-zero) empty product.
void score_block(const float* queries, int64_t row0, int64_t rows, const CandidateMatrix& c,
                 float* scratch) {
  if (c.dim == 0) {
    std::fill(scratch, scratch + rows * c.count, 0.0f);
    return;
  }
  if (rows == 1) {  // one query (serving): a GEMV, no packing of the catalogue
    blas::gemv(false, c.count, c.dim, 1.0f, c.data, c.dim, queries + row0 * c.dim, 0.0f, scratch);
    return;
  }
  blas::gemm(false, true, rows, c.count, c.dim, 1.0f, queries + row0 * c.dim, c.dim, c.data,
             c.dim, 0.0f, scratch, c.count);
}

// Strict "a ranks before b": higher score first, lower index on ties. NaN sorts
// after every number (even -inf) so that the order stays total and a NaN never
// displaces a real score; among NaNs the lower index still comes first.
bool ranks_before(const ScoredItem& a, const ScoredItem& b) {
  const bool a_nan = std::isnan(a.score);
  const bool b_nan = std::isnan(b.score);
  if (a_nan || b_nan) {
    if (a_nan && b_nan) return a.index < b.index;
    return b_nan;
  }
  if (a.score != b.score) return a.score > b.score;
  return a.index < b.index;
}

// ranks_before as a function object, so that the selection and the sort
// inline it (through a function pointer they called it).
struct RanksBefore {
  bool operator()(const ScoredItem& a, const ScoredItem& b) const { return ranks_before(a, b); }
};

// The `keep` best of s[0, count), skipping the entries that `skip` marks, in
// rank order, into `out` (a reservoir, as faiss's ReservoirTopN: a heap pays
// two sift-downs per newcomer, which at k = 100 of 1,682 was most of a
// serving request's selection). Candidates are appended while they can still
// make the list; when the buffer holds twice `keep`, nth_element keeps the
// best `keep`, and the worst of those becomes the bar. Candidates come in index
// order, so a newcomer clears the bar only with a score strictly above it (a
// tie loses on its higher index, a NaN never beats a number, and any number
// beats a NaN bar): one comparison for most of the catalogue. The kept set
// and its order are those of a full sort by ranks_before, a total order.
void select_best(const float* s, int64_t count, const unsigned char* skip, size_t keep,
                 std::vector<ScoredItem>& out) {
  out.clear();
  const size_t capacity = 2 * keep;
  bool has_bar = false;
  float bar = 0.0f;
  bool bar_is_nan = false;
  for (int64_t j = 0; j < count; ++j) {
    const float v = s[j];
    if (has_bar && (bar_is_nan ? std::isnan(v) : !(v > bar))) continue;
    if (skip && skip[j]) continue;
    out.push_back(ScoredItem{j, v});
    if (out.size() == capacity) {
      std::nth_element(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(keep - 1), out.end(),
                       RanksBefore{});
      out.resize(keep);
      has_bar = true;
      bar = out.back().score;
      bar_is_nan = std::isnan(bar);
    }
  }
  if (out.size() > keep) {
    std::nth_element(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(keep - 1), out.end(),
                     RanksBefore{});
    out.resize(keep);
  }
  std::sort(out.begin(), out.end(), RanksBefore{});
}

}  // namespace

std::vector<std::vector<ScoredItem>> top_k(const float* queries, int64_t n_queries,
                                           const CandidateMatrix& candidates, int64_t k,
                                           const std::vector<std::vector<int64_t>>* excluded) {
  check_inputs("top_k", queries, n_queries, candidates);
  TANDEM_CHECK(k > 0, "top_k: k must be > 0, got " << k);
  TANDEM_CHECK(excluded == nullptr || static_cast<int64_t>(excluded->size()) == n_queries,
               "top_k: excluded has " << excluded->size() << " lists but there are "
                                      << n_queries << " queries");

  const int64_t count = candidates.count;
  std::vector<std::vector<ScoredItem>> result(static_cast<size_t>(n_queries));
  if (count == 0 || n_queries == 0) return result;
  const size_t keep = static_cast<size_t>(std::min(k, count));

  const int64_t block = block_rows(n_queries, count);
  std::vector<float> scratch(static_cast<size_t>(block * count));
  // A mask instead of a per-candidate search in the exclusion list keeps the
  // scan linear; only the entries set for a query are cleared afterwards.
  std::vector<unsigned char> skip(excluded ? static_cast<size_t>(count) : 0, 0);
  std::vector<ScoredItem> best;
  best.reserve(std::min(2 * keep, static_cast<size_t>(count)));

  for (int64_t row0 = 0; row0 < n_queries; row0 += block) {
    const int64_t rows = std::min(block, n_queries - row0);
    score_block(queries, row0, rows, candidates, scratch.data());
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t q = row0 + r;
      const float* s = scratch.data() + r * count;
      const std::vector<int64_t>* ex = excluded ? &(*excluded)[static_cast<size_t>(q)] : nullptr;
      if (ex) {
        for (int64_t j : *ex)
          if (j >= 0 && j < count) skip[static_cast<size_t>(j)] = 1;
      }
      select_best(s, count, ex ? skip.data() : nullptr, keep, best);
      if (ex) {
        for (int64_t j : *ex)
          if (j >= 0 && j < count) skip[static_cast<size_t>(j)] = 0;
      }
      result[static_cast<size_t>(q)] = best;
    }
  }
  return result;
}

std::vector<int64_t> positive_ranks(const float* queries, int64_t n_queries,
                                    const CandidateMatrix& candidates,
                                    const int64_t* positives) {
  check_inputs("positive_ranks", queries, n_queries, candidates);
  TANDEM_CHECK(n_queries == 0 || positives != nullptr,
               "positive_ranks: positives is null but n_queries is " << n_queries);
  const int64_t count = candidates.count;
  PerQueryLists targets;
  targets.offsets.reserve(static_cast<size_t>(n_queries) + 1);
  for (int64_t q = 0; q < n_queries; ++q) {
    const int64_t p = positives[q];
    TANDEM_CHECK(p >= -1 && p < count, "positive_ranks: query " << q << " has positive " << p
                                                                << ", outside [-1, " << count
                                                                << ")");
    targets.add(&positives[q], &positives[q] + (p >= 0 ? 1 : 0));
  }
  TargetRankOptions options;
  options.threads = std::max(blas::threads(), 1);
  const std::vector<int64_t> ranked = rank_targets(queries, candidates, targets, nullptr, options);
  std::vector<int64_t> ranks(static_cast<size_t>(n_queries), count);  // -1: never a hit
  for (int64_t q = 0; q < n_queries; ++q)
    if (positives[q] >= 0) ranks[static_cast<size_t>(q)] = ranked[static_cast<size_t>(targets.offsets[static_cast<size_t>(q)])];
  return ranks;
}

}  // namespace tandem
