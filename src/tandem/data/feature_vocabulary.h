// Maps a categorical side feature's string values to embedding rows.
//
//  - lookup: built from the values seen in training; row 0 is the
//    out-of-vocabulary row (values never seen in training, e.g. a test-only
//    user's occupation), known values get rows 1..n in sorted order.
//  - hashed: for very large vocabularies, row = XXH64(value) mod buckets;
//    every value has a row (distinct values may share one), nothing to store.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tandem {

class FeatureVocabulary {
 public:
  FeatureVocabulary() = default;
  // `values` need not be sorted or unique.
  static FeatureVocabulary lookup(std::vector<std::string> values);
  static FeatureVocabulary hashed(int64_t buckets);
  // lookup(values), or hashed(hash_buckets) when hash_buckets > 0 and the
  // values have more distinct entries than that.
  static FeatureVocabulary build(std::vector<std::string> values, int64_t hash_buckets);

  bool is_hashed() const { return buckets_ > 0; }
  int64_t rows() const;
  static constexpr int32_t kOovRow = 0;
  int32_t row(std::string_view value) const;
  // Known values in row order (lookup: row i + 1 is values()[i]; hashed: empty).
  const std::vector<std::string>& values() const { return values_; }

 private:
  std::vector<std::string> values_;
  std::unordered_map<std::string, int32_t> index_;
  int64_t buckets_ = 0;
};

// The bucket of `value` among sorted `boundaries`: 0 below the first, i for
// boundaries[i-1] <= value < boundaries[i], boundaries.size() at or above the
// last.
int32_t bucket_of(int64_t value, const std::vector<int64_t>& boundaries);

// `buckets - 1` boundaries splitting `values` into (nearly) equally populated
// buckets: the quantiles at i / buckets. Duplicate boundaries (heavily
// repeated values) are kept so that the bucket count stays as asked.
std::vector<int64_t> quantile_boundaries(std::vector<int64_t> values, int64_t buckets);

// MovieLens-1M's age groups (Under 18, 18-24, 25-34, 35-44, 45-49, 50-55,
// 56+), as boundaries for bucket_of.
std::vector<int64_t> movielens_age_boundaries();

}  // namespace tandem
