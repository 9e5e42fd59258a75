// Maps raw ids to embedding-table rows.
//
// Two kinds, one per reference tutorial:
//  - identity (Keras-RS): row == raw id, table has max_id + 1 rows; ids
//    outside [0, max_id] are unknown and have no row.
//  - lookup (TFRS StringLookup, mask_token=None, one OOV slot): row 0 is the
//    out-of-vocabulary row, known ids get rows 1..n in ascending id order;
//    unknown ids map to row 0.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

namespace tandem {

class Vocabulary {
 public:
  enum class Kind { kIdentity, kLookup };

  Vocabulary() = default;
  static Vocabulary identity(int64_t max_id);
  // `ids` need not be sorted or unique; they are sorted and de-duplicated.
  static Vocabulary lookup(std::vector<int64_t> ids);

  Kind kind() const { return kind_; }
  int64_t rows() const;  // embedding-table rows needed
  bool has_oov() const { return kind_ == Kind::kLookup; }
  static constexpr int32_t kOovRow = 0;

  // Row of a known id, or nullopt if the id is not in the vocabulary.
  std::optional<int32_t> find(int64_t raw_id) const;
  // Row to use for `raw_id`: its own row, the OOV row for unknown ids of a
  // lookup vocabulary, or nullopt (unknown id, identity vocabulary).
  std::optional<int32_t> row_or_oov(int64_t raw_id) const;
  // Raw id of a row (identity: the row itself; lookup: rows >= 1).
  int64_t raw_id(int32_t row) const;

  // Serialisation: the kind and its defining ids (identity: {max_id};
  // lookup: the sorted ids).
  const std::vector<int64_t>& defining_ids() const { return ids_; }
  static Vocabulary from_defining_ids(Kind kind, std::vector<int64_t> ids);

 private:
  Kind kind_ = Kind::kIdentity;
  std::vector<int64_t> ids_;
  std::unordered_map<int64_t, int32_t> index_;  // lookup only
};

}  // namespace tandem
