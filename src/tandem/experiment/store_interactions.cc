#include "tandem/experiment/store_interactions.h"

#include <algorithm>
#include <memory>

#include "tandem/core/error.h"
#include "tandem/prepare/training_interactions.h"

namespace tandem {

namespace {

constexpr int64_t kBlockRows = int64_t{1} << 18;

// Calls fn(users, items, n) for consecutive blocks of the train columns.
template <typename Fn>
void for_each_block(const PreparedStore& store, Fn fn) {
  const StoreSplit& s = store.train;
  std::vector<int32_t> users(static_cast<size_t>(std::min(kBlockRows, s.rows)));
  std::vector<int32_t> items(users.size());
  for (int64_t first = 0; first < s.rows; first += kBlockRows) {
    const int64_t n = std::min(kBlockRows, s.rows - first);
    store.files.read(s.column("users.i32"), first * 4, users.data(), n * 4);
    store.files.read(s.column("items.i32"), first * 4, items.data(), n * 4);
    fn(users.data(), items.data(), n);
  }
}

// The store's seen-items column, read a range at a time (pread: any thread).
class StoreSeenItems final : public SeenItemsReader {
 public:
  StoreSeenItems(ColumnStore files, int64_t count, int64_t item_rows)
      : files_(std::move(files)), count_(count), item_rows_(item_rows) {}
  int64_t size() const override { return count_; }
  void read(int64_t first, int64_t n, int32_t* out) const override {
    TANDEM_CHECK(first >= 0 && n >= 0 && first + n <= count_,
                 files_.dir() << "/" << kStoreSeenItems << ": entries " << first << ".." << first + n
                              << " of " << count_);
    files_.read(kStoreSeenItems, first * 4, out, n * 4);
    // Verified on open; checked again as read, in case the file changed since.
    for (int64_t i = 0; i < n; ++i)
      TANDEM_CHECK(out[i] >= 0 && out[i] < item_rows_, files_.dir() << "/" << kStoreSeenItems << ": entry "
                                                                    << first + i << " is row " << out[i]
                                                                    << ", outside the item table");
  }

 private:
  ColumnStore files_;
  int64_t count_, item_rows_;
};

}  // namespace

void index_store_interactions(const PreparedStore& store, TrainedModel& m) {
  const int64_t user_rows = m.users.rows(), item_rows = m.items.rows();
  if (store.has_seen_index) {
    // Prepared with the store: the per-row arrays are taken, the seen items
    // stay in the store's file.
    TANDEM_CHECK(static_cast<int64_t>(store.seen_offsets.size()) == user_rows + 1 &&
                     static_cast<int64_t>(store.item_train_counts.size()) == item_rows,
                 store.files.dir() << ": the training-interaction index does not match the vocabularies");
    m.item_train_counts = store.item_train_counts;
    m.seen_offsets = store.seen_offsets;
    m.seen_items = {};
    m.seen_reader = std::make_shared<StoreSeenItems>(store.files, store.seen_pairs, item_rows);
    return;
  }
  // A store written before the index was stored: built from the train
  // columns and held (4 bytes per distinct training pair).
  m.seen_reader.reset();
  m.item_train_counts.assign(static_cast<size_t>(item_rows), 0);
  m.seen_offsets.assign(static_cast<size_t>(user_rows) + 1, 0);
  // Pass 1: counts per item and per user (the user's range in seen_items).
  for_each_block(store, [&](const int32_t* users, const int32_t* items, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      TANDEM_CHECK(users[i] >= 0 && users[i] < user_rows && items[i] >= 0 && items[i] < item_rows,
                   store.files.dir() << "/train.*: an example has rows (" << users[i] << ", " << items[i]
                                     << ") outside the tables");
      m.item_train_counts[static_cast<size_t>(items[i])] += 1;
      m.seen_offsets[static_cast<size_t>(users[i]) + 1] += 1;
    }
  });
  for (size_t u = 0; u < static_cast<size_t>(user_rows); ++u) m.seen_offsets[u + 1] += m.seen_offsets[u];
  // Pass 2: every user's items into its range (duplicates included) ...
  m.seen_items.assign(static_cast<size_t>(store.train.rows), 0);
  std::vector<int64_t> cursor(m.seen_offsets.begin(), m.seen_offsets.end() - 1);
  for_each_block(store, [&](const int32_t* users, const int32_t* items, int64_t n) {
    for (int64_t i = 0; i < n; ++i) m.seen_items[static_cast<size_t>(cursor[static_cast<size_t>(users[i])]++)] = items[i];
  });
  cursor = {};
  // ... then sorted, de-duplicated and packed to the front, in user order.
  sort_and_pack_seen(m.seen_offsets, m.seen_items);
  m.seen_items.shrink_to_fit();
}

}  // namespace tandem
