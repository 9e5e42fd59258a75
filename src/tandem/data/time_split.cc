#include "tandem/data/time_split.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

#include "tandem/core/error.h"

namespace tandem {

std::string to_string(SplitStrategy s) {
  switch (s) {
    case SplitStrategy::kRandom: return "random";
    case SplitStrategy::kLeaveLastOut: return "leave-last-out";
    case SplitStrategy::kTime: return "time";
  }
  return "unknown";
}

SplitStrategy parse_split_strategy(const std::string& name) {
  for (const auto s : {SplitStrategy::kRandom, SplitStrategy::kLeaveLastOut, SplitStrategy::kTime})
    if (to_string(s) == name) return s;
  TANDEM_THROW("unknown split '" << name << "' (known: random, leave-last-out, time)");
}

namespace {

void check_rows(size_t n) {
  TANDEM_CHECK(n <= UINT32_MAX, "cannot split " << n << " ratings: indices are 32-bit, so at most "
                                                << UINT32_MAX << " are supported");
}

}  // namespace

SplitIndices leave_last_out_split(const std::vector<int64_t>& users,
                                  const std::vector<int64_t>& timestamps) {
  TANDEM_CHECK(users.size() == timestamps.size(),
               "leave-last-out split: " << users.size() << " users but " << timestamps.size()
                                        << " timestamps");
  check_rows(users.size());
  struct Latest {
    uint32_t row;
    uint32_t count;
  };
  std::unordered_map<int64_t, Latest> latest;
  latest.reserve(users.size() / 8 + 16);
  for (uint32_t i = 0; i < users.size(); ++i) {
    auto [it, inserted] = latest.try_emplace(users[i], Latest{i, 1});
    if (inserted) continue;
    Latest& l = it->second;
    ++l.count;
    // ">=": a later row with the same timestamp wins the tie (file order).
    if (timestamps[i] >= timestamps[l.row]) l.row = i;
  }
  std::vector<char> is_test(users.size(), 0);
  for (const auto& [user, l] : latest)
    if (l.count >= 2) is_test[l.row] = 1;
  SplitIndices out;
  for (uint32_t i = 0; i < users.size(); ++i) (is_test[i] ? out.test : out.train).push_back(i);
  return out;
}

SplitIndices time_fraction_split(const std::vector<int64_t>& timestamps, double train_fraction) {
  TANDEM_CHECK(std::isfinite(train_fraction) && train_fraction > 0 && train_fraction <= 1,
               "time split: the train fraction must be in (0, 1], got " << train_fraction);
  check_rows(timestamps.size());
  std::vector<uint32_t> order(timestamps.size());
  std::iota(order.begin(), order.end(), uint32_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return timestamps[a] < timestamps[b]; });
  const auto n_train = static_cast<size_t>(
      std::llround(static_cast<double>(timestamps.size()) * train_fraction));
  SplitIndices out;
  out.train.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_train));
  out.test.assign(order.begin() + static_cast<std::ptrdiff_t>(n_train), order.end());
  std::sort(out.train.begin(), out.train.end());
  std::sort(out.test.begin(), out.test.end());
  return out;
}

SplitIndices time_cut_split(const std::vector<int64_t>& timestamps, int64_t cut) {
  check_rows(timestamps.size());
  SplitIndices out;
  for (uint32_t i = 0; i < timestamps.size(); ++i)
    (timestamps[i] < cut ? out.train : out.test).push_back(i);
  return out;
}

}  // namespace tandem
