#include "tandem/evaluate/user_ranking.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include "tandem/core/error.h"
#include "tandem/evaluate/tiled_ranking.h"

namespace tandem {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Rank given to a relevant item that is not in the catalogue, for the
// ranking metrics: beyond any K, with a negligible 1 / (rank + 1) for MRR.
// (Far from int64's limit: ranking_metrics_from_ranks adds 1 to it.)
constexpr int64_t kNeverRetrieved = std::numeric_limits<int64_t>::max() / 4;

// Test pair indices grouped by user row (rows ascending, pairs in test order).
struct UserGroups {
  std::vector<int32_t> rows;
  std::vector<int64_t> offsets;  // pairs of rows[g]: pairs[offsets[g] .. offsets[g + 1])
  std::vector<int64_t> pairs;
};

UserGroups group_by_user(const Examples& test) {
  int32_t max_row = -1;
  for (size_t i = 0; i < test.size(); ++i) {
    TANDEM_CHECK(test.users[i] >= 0, "evaluation: test pair " << i << " has user row " << test.users[i]);
    max_row = std::max(max_row, test.users[i]);
  }
  // Counting sort: stable, O(pairs + rows).
  std::vector<int64_t> start(static_cast<size_t>(max_row) + 2, 0);
  for (int32_t u : test.users) start[static_cast<size_t>(u) + 1] += 1;
  UserGroups g;
  g.offsets.push_back(0);
  for (int32_t u = 0; u <= max_row; ++u) {
    const int64_t n = start[static_cast<size_t>(u) + 1];
    if (n == 0) continue;
    g.rows.push_back(u);
    g.offsets.push_back(g.offsets.back() + n);
  }
  for (size_t u = 1; u < start.size(); ++u) start[u] += start[u - 1];
  g.pairs.resize(test.size());
  for (size_t i = 0; i < test.size(); ++i)
    g.pairs[static_cast<size_t>(start[static_cast<size_t>(test.users[i])]++)] = static_cast<int64_t>(i);
  return g;
}

}  // namespace

SeenItems seen_items_from(const Examples& train, int64_t user_rows) {
  TANDEM_CHECK(user_rows >= 0, "seen items: " << user_rows << " user rows");
  std::vector<int64_t> count(static_cast<size_t>(user_rows) + 1, 0);
  for (size_t i = 0; i < train.size(); ++i) {
    TANDEM_CHECK(train.users[i] >= 0 && train.users[i] < user_rows,
                 "seen items: training pair " << i << " has user row " << train.users[i]
                                              << ", outside [0, " << user_rows << ")");
    count[static_cast<size_t>(train.users[i]) + 1] += 1;
  }
  for (size_t u = 1; u < count.size(); ++u) count[u] += count[u - 1];
  std::vector<int32_t> all(train.size());
  std::vector<int64_t> next(count.begin(), count.end() - 1);
  for (size_t i = 0; i < train.size(); ++i)
    all[static_cast<size_t>(next[static_cast<size_t>(train.users[i])]++)] = train.items[i];
  SeenItems s;
  s.offsets.push_back(0);
  for (int64_t u = 0; u < user_rows; ++u) {
    const auto b = all.begin() + count[static_cast<size_t>(u)], e = all.begin() + count[static_cast<size_t>(u) + 1];
    std::sort(b, e);
    s.items.insert(s.items.end(), b, std::unique(b, e));
    s.offsets.push_back(static_cast<int64_t>(s.items.size()));
  }
  return s;
}

UserRanking rank_test_users(const QueryGather& gather_queries, const CandidateMatrix& cm,
                            const std::vector<int64_t>& catalogue_index, const Examples& test,
                            const std::vector<float>& test_ratings, const ExperimentConfig& config,
                            const SeenItems* seen,
                            const std::function<void(int64_t done, int64_t total)>& on_progress,
                            int threads, EvalPhaseTimes* times, const TargetRanker& ranker) {
  const auto n = static_cast<int64_t>(test.size());
  TANDEM_CHECK(test.items.size() == test.users.size(),
               "evaluation: " << test.users.size() << " test users but " << test.items.size() << " items");
  TANDEM_CHECK(!config.topk_min_rating || test_ratings.size() == test.size(),
               "evaluation: " << test_ratings.size() << " test ratings for " << n << " test pairs");
  for (size_t i = 0; i < test.size(); ++i)
    TANDEM_CHECK(test.items[i] >= 0 && static_cast<size_t>(test.items[i]) < catalogue_index.size(),
                 "evaluation: test pair " << i << " has item row " << test.items[i] << ", outside [0, "
                                          << catalogue_index.size() << ")");
  if (seen != nullptr) {
    TANDEM_CHECK(!seen->offsets.empty() && seen->offsets.front() == 0 &&
                     seen->offsets.back() == static_cast<int64_t>(seen->items.size()),
                 "evaluation: the seen-item offsets do not index the " << seen->items.size() << " seen items");
    for (int32_t item : seen->items)
      TANDEM_CHECK(item >= 0 && static_cast<size_t>(item) < catalogue_index.size(),
                   "evaluation: seen item row " << item << " outside [0, " << catalogue_index.size() << ")");
  }
  const UserGroups groups = group_by_user(test);
  if (seen != nullptr && !groups.rows.empty())
    TANDEM_CHECK(static_cast<size_t>(groups.rows.back()) + 1 < seen->offsets.size(),
                 "evaluation: test user row " << groups.rows.back() << " has no seen-item list ("
                                              << seen->offsets.size() - 1 << " users)");
  auto relevant_pair = [&](int64_t i) {
    return !config.topk_min_rating || test_ratings[static_cast<size_t>(i)] >= *config.topk_min_rating;
  };

  UserRanking out;
  out.pair_ranks.assign(static_cast<size_t>(n), cm.count);
  std::vector<std::vector<int64_t>> metric_ranks;  // per user with a relevant item
  metric_ranks.reserve(groups.rows.size());

  const auto n_users = static_cast<int64_t>(groups.rows.size());
  // Every test user's query vector (users x dim: the size of the test set,
  // not of the scores), gathered in chunks of the evaluation batch.
  const auto towers_start = std::chrono::steady_clock::now();
  const int64_t chunk = std::max<int64_t>(config.eval_batch_size, 1);
  std::vector<float> queries(static_cast<size_t>(n_users * cm.dim));
  for (int64_t g0 = 0; g0 < n_users; g0 += chunk)
    gather_queries(groups.rows.data() + g0, std::min(chunk, n_users - g0), queries.data() + g0 * cm.dim);
  if (times) times->towers += seconds_since(towers_start);

  // Per user: its distinct test items in the catalogue (targets, ascending),
  // which of them are relevant, and its excluded (seen, not tested) items.
  PerQueryLists targets, excluded;
  std::vector<unsigned char> is_relevant;  // parallel to targets.items
  std::vector<int64_t> t, ex;
  for (int64_t g = 0; g < n_users; ++g) {
    const auto G = static_cast<size_t>(g);
    t.clear();
    for (int64_t p = groups.offsets[G]; p < groups.offsets[G + 1]; ++p) {
      const int64_t idx = catalogue_index[static_cast<size_t>(test.items[static_cast<size_t>(groups.pairs[static_cast<size_t>(p)])])];
      if (idx >= 0) t.push_back(idx);
    }
    std::sort(t.begin(), t.end());
    t.erase(std::unique(t.begin(), t.end()), t.end());
    const auto rel0 = is_relevant.size();
    is_relevant.resize(rel0 + t.size(), 0);
    for (int64_t p = groups.offsets[G]; p < groups.offsets[G + 1]; ++p) {
      const auto pair = groups.pairs[static_cast<size_t>(p)];
      const int64_t idx = catalogue_index[static_cast<size_t>(test.items[static_cast<size_t>(pair)])];
      if (idx >= 0 && relevant_pair(pair))
        is_relevant[rel0 + static_cast<size_t>(std::lower_bound(t.begin(), t.end(), idx) - t.begin())] = 1;
    }
    targets.add(t.data(), t.data() + t.size());
    if (seen != nullptr) {
      const auto u = static_cast<size_t>(groups.rows[G]);
      ex.clear();
      for (int64_t s = seen->offsets[u]; s < seen->offsets[u + 1]; ++s) {
        const int64_t idx = catalogue_index[static_cast<size_t>(seen->items[static_cast<size_t>(s)])];
        if (idx >= 0 && !std::binary_search(t.begin(), t.end(), idx)) ex.push_back(idx);
      }
      excluded.add(ex.data(), ex.data() + ex.size());
    }
  }

  // One fused pass over the catalogue for every user.
  const auto rank_start = std::chrono::steady_clock::now();
  TargetRankOptions options;
  options.threads = std::max(threads, 1);
  if (on_progress) {
    // Progress in test pairs, from the kernel's share of tiles done.
    options.on_progress = [&](int64_t done, int64_t total) {
      on_progress(std::min(n, n * done / std::max<int64_t>(total, 1)), n);
    };
  }
  TargetRankTimes kernel_times;
  const std::vector<int64_t> ranks =
      ranker ? ranker(queries.data(), targets, seen != nullptr ? &excluded : nullptr, &kernel_times)
             : rank_targets(queries.data(), cm, targets, seen != nullptr ? &excluded : nullptr, options, &kernel_times);
  if (times) times->add_kernel(kernel_times, seconds_since(rank_start));

  std::vector<int32_t> missing;  // a user's relevant item rows outside the catalogue
  for (int64_t g = 0; g < n_users; ++g) {
    const auto G = static_cast<size_t>(g);
    const auto t0 = targets.items.begin() + targets.offsets[G], t1 = targets.items.begin() + targets.offsets[G + 1];
    const int64_t* r = ranks.data() + targets.offsets[G];  // nothing of t is excluded: one rank each
    missing.clear();
    for (int64_t p = groups.offsets[G]; p < groups.offsets[G + 1]; ++p) {
      const auto pair = groups.pairs[static_cast<size_t>(p)];
      const int32_t item = test.items[static_cast<size_t>(pair)];
      const int64_t idx = catalogue_index[static_cast<size_t>(item)];
      if (idx >= 0) {
        out.pair_ranks[static_cast<size_t>(pair)] = r[std::lower_bound(t0, t1, idx) - t0];
      } else if (relevant_pair(pair)) {
        missing.push_back(item);
      }
    }
    std::sort(missing.begin(), missing.end());
    missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
    std::vector<int64_t> user_ranks(missing.size(), kNeverRetrieved);
    for (int64_t i = 0; i < t1 - t0; ++i)
      if (is_relevant[static_cast<size_t>(targets.offsets[G] + i)]) user_ranks.push_back(r[i]);
    if (!user_ranks.empty()) metric_ranks.push_back(std::move(user_ranks));
  }
  if (on_progress) on_progress(n, n);

  std::vector<int64_t> ks = config.metrics_at;
  std::sort(ks.begin(), ks.end());
  ks.erase(std::unique(ks.begin(), ks.end()), ks.end());
  for (int64_t k : ks) out.at.push_back(ranking_metrics_from_ranks(metric_ranks, k));
  return out;
}

}  // namespace tandem
