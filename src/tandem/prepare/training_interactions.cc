#include "tandem/prepare/training_interactions.h"

#include <algorithm>

#include "tandem/core/error.h"

namespace tandem {

void sort_and_pack_seen(std::vector<int64_t>& offsets, std::vector<int32_t>& items) {
  const size_t users = offsets.empty() ? 0 : offsets.size() - 1;
  int64_t out = 0;
  for (size_t u = 0; u < users; ++u) {
    const auto b = items.begin() + offsets[u];
    const auto e = items.begin() + offsets[u + 1];
    std::sort(b, e);
    const auto last = std::unique(b, e);
    offsets[u] = out;
    // Packing moves a range left (never onto itself: std::copy forbids that).
    const auto dst = items.begin() + out;
    if (dst != b) std::copy(b, last, dst);
    out += last - b;
  }
  if (users > 0) offsets[users] = out;
  items.resize(static_cast<size_t>(out));
}

TrainingInteractions index_training_interactions(const Examples& train, int64_t user_rows, int64_t item_rows) {
  TANDEM_CHECK(user_rows >= 0 && item_rows >= 0, "training interactions: tables of " << user_rows << " and "
                                                                                    << item_rows << " rows");
  TrainingInteractions t;
  t.item_counts.assign(static_cast<size_t>(item_rows), 0);
  t.seen_offsets.assign(static_cast<size_t>(user_rows) + 1, 0);
  // Counts per item and per user (the user's range before de-duplication) ...
  for (size_t i = 0; i < train.size(); ++i) {
    const int32_t u = train.users[i], it = train.items[i];
    TANDEM_CHECK(u >= 0 && u < user_rows && it >= 0 && it < item_rows,
                 "training interactions: example " << i << " has rows (" << u << ", " << it
                                                    << ") outside the tables");
    t.item_counts[static_cast<size_t>(it)] += 1;
    t.seen_offsets[static_cast<size_t>(u) + 1] += 1;
  }
  for (size_t u = 0; u < static_cast<size_t>(user_rows); ++u) t.seen_offsets[u + 1] += t.seen_offsets[u];
  // ... every user's items into its range, then sorted, de-duplicated and
  // packed to the front in user order.
  t.seen_items.assign(train.size(), 0);
  {
    std::vector<int64_t> cursor(t.seen_offsets.begin(), t.seen_offsets.end() - 1);
    for (size_t i = 0; i < train.size(); ++i)
      t.seen_items[static_cast<size_t>(cursor[static_cast<size_t>(train.users[i])]++)] = train.items[i];
  }
  sort_and_pack_seen(t.seen_offsets, t.seen_items);
  t.seen_items.shrink_to_fit();
  return t;
}

}  // namespace tandem
