// A set of raw ids that is fast on the common case: ids are small
// non-negative integers (MovieLens's, interned strings'), so a byte per
// possible id beats hashing each of tens of millions of rows. Ids beyond the
// expected range, or all ids when the range is too sparse for a table, go to
// a hash set, so any int64 works.
#pragma once

#include <cstdint>
#include <unordered_set>
#include <vector>

namespace tandem {

class IdSet {
 public:
  // `max_id`: the largest id expected; `count`: about how many will be
  // inserted. A table is used when max_id is at most 16 * count + 2^20.
  IdSet(int64_t max_id, size_t count) {
    if (max_id >= 0 && static_cast<uint64_t>(max_id) <= 16 * static_cast<uint64_t>(count) + (1u << 20))
      dense_.assign(static_cast<size_t>(max_id) + 1, 0);
  }
  // True when `id` was not in the set before.
  bool insert(int64_t id) {
    if (id >= 0 && static_cast<uint64_t>(id) < dense_.size()) {
      uint8_t& slot = dense_[static_cast<size_t>(id)];
      const bool added = slot == 0;
      slot = 1;
      return added;
    }
    return sparse_.insert(id).second;
  }
  bool contains(int64_t id) const {
    if (id >= 0 && static_cast<uint64_t>(id) < dense_.size()) return dense_[static_cast<size_t>(id)] != 0;
    return sparse_.count(id) != 0;
  }

 private:
  std::vector<uint8_t> dense_;
  std::unordered_set<int64_t> sparse_;
};

}  // namespace tandem
