#include "tandem/data/feature_vocabulary.h"

#include <xxhash.h>

#include <algorithm>

#include "tandem/core/error.h"

namespace tandem {

FeatureVocabulary FeatureVocabulary::lookup(std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  FeatureVocabulary v;
  v.values_ = std::move(values);
  for (size_t i = 0; i < v.values_.size(); ++i) v.index_.emplace(v.values_[i], static_cast<int32_t>(i + 1));
  return v;
}

FeatureVocabulary FeatureVocabulary::hashed(int64_t buckets) {
  TANDEM_CHECK(buckets > 0 && buckets <= (int64_t{1} << 30),
               "hash buckets must be in 1..2^30, got " << buckets);
  FeatureVocabulary v;
  v.buckets_ = buckets;
  return v;
}

FeatureVocabulary FeatureVocabulary::build(std::vector<std::string> values, int64_t hash_buckets) {
  FeatureVocabulary v = lookup(std::move(values));
  if (hash_buckets > 0 && static_cast<int64_t>(v.values_.size()) > hash_buckets) return hashed(hash_buckets);
  return v;
}

int64_t FeatureVocabulary::rows() const {
  return is_hashed() ? buckets_ : static_cast<int64_t>(values_.size()) + 1;
}

int32_t FeatureVocabulary::row(std::string_view value) const {
  if (is_hashed()) {
    return static_cast<int32_t>(XXH64(value.data(), value.size(), 0) % static_cast<uint64_t>(buckets_));
  }
  const auto it = index_.find(std::string(value));
  return it == index_.end() ? kOovRow : it->second;
}

int32_t bucket_of(int64_t value, const std::vector<int64_t>& boundaries) {
  return static_cast<int32_t>(std::upper_bound(boundaries.begin(), boundaries.end(), value) -
                              boundaries.begin());
}

std::vector<int64_t> quantile_boundaries(std::vector<int64_t> values, int64_t buckets) {
  TANDEM_CHECK(buckets >= 1, "bucket count must be positive, got " << buckets);
  TANDEM_CHECK(!values.empty(), "no values to take quantiles of");
  std::sort(values.begin(), values.end());
  std::vector<int64_t> out;
  const auto n = static_cast<int64_t>(values.size());
  for (int64_t i = 1; i < buckets; ++i) out.push_back(values[static_cast<size_t>(i * n / buckets)]);
  return out;
}

std::vector<int64_t> movielens_age_boundaries() { return {18, 25, 35, 45, 50, 56}; }

}  // namespace tandem
