#include "tandem/data/vocabulary.h"

#include <algorithm>
#include <numeric>

#include "tandem/core/error.h"

namespace tandem {

// A default-constructed Vocabulary is an empty identity vocabulary: no ids,
// zero rows. Its defining ids are {} and from_defining_ids accepts that, so
// every vocabulary round-trips.

Vocabulary Vocabulary::identity(int64_t max_id) {
  TANDEM_CHECK(max_id >= 0, "identity vocabulary needs a max id >= 0, got " << max_id);
  TANDEM_CHECK(max_id < kMaxRows, "identity vocabulary for max id "
                                      << max_id << " would need " << max_id << " + 1 rows; at most "
                                      << kMaxRows << " are supported");
  Vocabulary v;
  v.kind_ = Kind::kIdentity;
  v.ids_ = {max_id};
  return v;
}

Vocabulary Vocabulary::lookup(std::vector<int64_t> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  TANDEM_CHECK(static_cast<int64_t>(ids.size()) < kMaxRows,
               "lookup vocabulary of " << ids.size() << " ids would need " << ids.size()
                                       << " + 1 rows; at most " << kMaxRows
                                       << " are supported");
  Vocabulary v;
  v.kind_ = Kind::kLookup;
  v.index_.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) v.index_.emplace(ids[i], static_cast<int32_t>(i + 1));
  v.ids_ = std::move(ids);
  return v;
}

Vocabulary Vocabulary::keyed(std::vector<int64_t> ids, std::vector<int32_t> key_rows) {
  TANDEM_CHECK(ids.size() == key_rows.size(),
               "keyed vocabulary: " << ids.size() << " ids but " << key_rows.size() << " rows");
  TANDEM_CHECK(static_cast<int64_t>(ids.size()) < kMaxRows,
               "keyed vocabulary of " << ids.size() << " ids would need up to " << ids.size()
                                      << " + 1 rows; at most " << kMaxRows << " are supported");
  // Sorted by id, so that the defining lists are canonical.
  std::vector<size_t> order(ids.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ids[a] < ids[b]; });
  Vocabulary v;
  v.kind_ = Kind::kKeyed;
  v.ids_.reserve(ids.size());
  v.key_rows_.reserve(ids.size());
  int32_t max_row = 0;
  for (size_t i : order) {
    TANDEM_CHECK(v.ids_.empty() || v.ids_.back() != ids[i], "keyed vocabulary: id " << ids[i] << " appears twice");
    TANDEM_CHECK(key_rows[i] >= 1 && key_rows[i] <= static_cast<int64_t>(ids.size()),
                 "keyed vocabulary: id " << ids[i] << " has row " << key_rows[i] << ", outside 1.."
                                         << ids.size() << " (row 0 is the OOV row)");
    v.ids_.push_back(ids[i]);
    v.key_rows_.push_back(key_rows[i]);
    max_row = std::max(max_row, key_rows[i]);
  }
  // Ascending ids: the first id met for a row is its smallest.
  v.first_id_of_row_.assign(static_cast<size_t>(max_row) + 1, -1);
  v.index_.reserve(v.ids_.size());
  for (size_t i = 0; i < v.ids_.size(); ++i) {
    v.index_.emplace(v.ids_[i], v.key_rows_[i]);
    int64_t& first = v.first_id_of_row_[static_cast<size_t>(v.key_rows_[i])];
    if (first < 0) first = v.ids_[i];
  }
  for (int32_t r = 1; r <= max_row; ++r)
    TANDEM_CHECK(v.first_id_of_row_[static_cast<size_t>(r)] >= 0,
                 "keyed vocabulary: row " << r << " has no id (rows must cover 1.." << max_row << ")");
  return v;
}

int64_t Vocabulary::rows() const {
  if (kind_ == Kind::kLookup) return static_cast<int64_t>(ids_.size()) + 1;
  if (kind_ == Kind::kKeyed) return static_cast<int64_t>(first_id_of_row_.size());
  return ids_.empty() ? 0 : ids_[0] + 1;
}

std::optional<int32_t> Vocabulary::find(int64_t raw_id) const {
  if (kind_ != Kind::kIdentity) {
    const auto it = index_.find(raw_id);
    if (it == index_.end()) return std::nullopt;
    return it->second;
  }
  if (ids_.empty() || raw_id < 0 || raw_id > ids_[0]) return std::nullopt;
  return static_cast<int32_t>(raw_id);
}

std::optional<int32_t> Vocabulary::row_or_oov(int64_t raw_id) const {
  const auto row = find(raw_id);
  if (row || kind_ == Kind::kIdentity) return row;
  return kOovRow;
}

int64_t Vocabulary::raw_id(int32_t row) const {
  if (kind_ == Kind::kIdentity) {
    TANDEM_CHECK(row >= 0 && row < rows(), "row " << row << " is outside the identity vocabulary's "
                                                  << rows() << " rows");
    return row;
  }
  TANDEM_CHECK(row != kOovRow, "row 0 is the out-of-vocabulary row and has no raw id");
  TANDEM_CHECK(row > 0 && row < rows(),
               "row " << row << " is outside the lookup vocabulary's " << rows() << " rows");
  if (kind_ == Kind::kKeyed) return first_id_of_row_[static_cast<size_t>(row)];
  return ids_[static_cast<size_t>(row) - 1];
}

Vocabulary Vocabulary::from_defining_ids(Kind kind, std::vector<int64_t> ids,
                                         std::vector<int32_t> key_rows) {
  TANDEM_CHECK(kind == Kind::kKeyed || key_rows.empty(),
               "only a keyed vocabulary is defined by rows as well as ids");
  switch (kind) {
    case Kind::kIdentity:
      if (ids.empty()) return Vocabulary();
      TANDEM_CHECK(ids.size() == 1, "identity vocabulary is defined by one id (max id), got "
                                        << ids.size());
      return identity(ids[0]);
    case Kind::kLookup:
      // Stored ids come from defining_ids(), which is sorted and unique;
      // anything else means the stored vocabulary was damaged, and silently
      // re-sorting it would move rows away from their trained embeddings.
      for (size_t i = 1; i < ids.size(); ++i) {
        TANDEM_CHECK(ids[i - 1] < ids[i], "lookup vocabulary ids must be strictly ascending, but id "
                                              << ids[i] << " at position " << i << " follows "
                                              << ids[i - 1]);
      }
      return lookup(std::move(ids));
    case Kind::kKeyed:
      for (size_t i = 1; i < ids.size(); ++i) {
        TANDEM_CHECK(ids[i - 1] < ids[i], "keyed vocabulary ids must be strictly ascending, but id "
                                              << ids[i] << " at position " << i << " follows "
                                              << ids[i - 1]);
      }
      return keyed(std::move(ids), std::move(key_rows));
  }
  TANDEM_THROW("unknown vocabulary kind " << static_cast<int>(kind));
}

}  // namespace tandem
