#include "tandem/data/vocabulary.h"

#include <algorithm>

#include "tandem/core/error.h"

namespace tandem {

namespace {

// Rows are int32_t; keeping a little headroom below INT32_MAX means
// rows() and "last row + 1" never overflow when stored as int32_t.
constexpr int64_t kMaxRows = (int64_t{1} << 31) - 2;

}  // namespace

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

int64_t Vocabulary::rows() const {
  if (kind_ == Kind::kLookup) return static_cast<int64_t>(ids_.size()) + 1;
  return ids_.empty() ? 0 : ids_[0] + 1;
}

std::optional<int32_t> Vocabulary::find(int64_t raw_id) const {
  if (kind_ == Kind::kLookup) {
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
  return ids_[static_cast<size_t>(row) - 1];
}

Vocabulary Vocabulary::from_defining_ids(Kind kind, std::vector<int64_t> ids) {
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
  }
  TANDEM_THROW("unknown vocabulary kind " << static_cast<int>(kind));
}

}  // namespace tandem
