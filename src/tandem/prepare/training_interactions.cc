#include "tandem/prepare/training_interactions.h"

#include <algorithm>

#include "tandem/core/error.h"

namespace tandem {

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
  int64_t out = 0;
  for (size_t u = 0; u < static_cast<size_t>(user_rows); ++u) {
    const auto b = t.seen_items.begin() + t.seen_offsets[u];
    const auto e = t.seen_items.begin() + t.seen_offsets[u + 1];
    std::sort(b, e);
    const auto last = std::unique(b, e);
    t.seen_offsets[u] = out;
    const auto dst = t.seen_items.begin() + out;
    // Packing moves a range left (never onto itself: std::copy forbids that).
    if (dst != b) std::copy(b, last, dst);
    out += last - b;
  }
  t.seen_offsets[static_cast<size_t>(user_rows)] = out;
  t.seen_items.resize(static_cast<size_t>(out));
  t.seen_items.shrink_to_fit();
  return t;
}

}  // namespace tandem
