// Maps raw ids to embedding-table rows.
//
// Two kinds, one per reference tutorial, and a variant of the second:
//  - identity (Keras-RS): row == raw id, table has max_id + 1 rows; ids
//    outside [0, max_id] are unknown and have no row.
//  - lookup (TFRS StringLookup, mask_token=None, one OOV slot): row 0 is the
//    out-of-vocabulary row, known ids get rows 1..n in ascending id order;
//    unknown ids map to row 0.
//  - keyed: a lookup whose rows belong to keys that several ids may share.
//    TFRS looks movies up by title, and in MovieLens-100K 18 titles name two
//    movies each: both ids must land on the title's one row.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

namespace tandem {

class Vocabulary {
 public:
  enum class Kind { kIdentity, kLookup, kKeyed };

  Vocabulary() = default;
  static Vocabulary identity(int64_t max_id);
  // `ids` need not be sorted or unique; they are sorted and de-duplicated.
  static Vocabulary lookup(std::vector<int64_t> ids);
  // A keyed vocabulary: ids[i] gets row key_rows[i]. The rows must cover
  // 1..n with none skipped (row 0 stays the OOV row); ids must be distinct.
  static Vocabulary keyed(std::vector<int64_t> ids, std::vector<int32_t> key_rows);

  Kind kind() const { return kind_; }
  int64_t rows() const;  // embedding-table rows needed
  bool has_oov() const { return kind_ != Kind::kIdentity; }
  static constexpr int32_t kOovRow = 0;
  // The most rows a vocabulary has. Rows are int32_t; keeping a little
  // headroom below INT32_MAX means rows() and "last row + 1" never overflow
  // when stored as int32_t. An identity vocabulary's max id is below it.
  static constexpr int64_t kMaxRows = (int64_t{1} << 31) - 2;

  // Row of a known id, or nullopt if the id is not in the vocabulary.
  std::optional<int32_t> find(int64_t raw_id) const;
  // Row to use for `raw_id`: its own row, the OOV row for unknown ids of a
  // lookup vocabulary, or nullopt (unknown id, identity vocabulary).
  std::optional<int32_t> row_or_oov(int64_t raw_id) const;
  // Raw id of a row (identity: the row itself; lookup: rows >= 1; keyed:
  // the smallest id sharing the row).
  int64_t raw_id(int32_t row) const;

  // Serialisation: the kind and its defining ids (identity: {max_id};
  // lookup and keyed: the sorted ids) and, keyed only, each id's row.
  const std::vector<int64_t>& defining_ids() const { return ids_; }
  const std::vector<int32_t>& defining_rows() const { return key_rows_; }
  static Vocabulary from_defining_ids(Kind kind, std::vector<int64_t> ids,
                                      std::vector<int32_t> key_rows = {});

 private:
  Kind kind_ = Kind::kIdentity;
  std::vector<int64_t> ids_;
  std::unordered_map<int64_t, int32_t> index_;  // lookup and keyed
  std::vector<int32_t> key_rows_;               // keyed: row of ids_[i]
  std::vector<int64_t> first_id_of_row_;        // keyed: raw_id() per row
};

}  // namespace tandem
