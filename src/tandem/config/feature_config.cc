#include "tandem/config/feature_config.h"

#include <algorithm>
#include <set>

#include "tandem/core/error.h"

namespace tandem {

const std::vector<std::string>& known_user_features() {
  static const std::vector<std::string> k = {"age", "gender", "occupation", "zip"};
  return k;
}

const std::vector<std::string>& known_item_features() {
  static const std::vector<std::string> k = {"genres", "year"};
  return k;
}

namespace {

void check_known(const std::vector<std::string>& names, const std::vector<std::string>& known,
                 const char* side) {
  for (const auto& n : names) {
    if (std::find(known.begin(), known.end(), n) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      TANDEM_THROW("unknown " << side << " feature '" << n << "' (known with MovieLens data: "
                              << list << "; other columns need the csv format)");
    }
  }
}

void check_distinct(const std::vector<std::string>& names, const char* side) {
  std::set<std::string> seen;
  for (const auto& n : names) {
    TANDEM_CHECK(!n.empty(), side << " feature names must not be empty");
    TANDEM_CHECK(seen.insert(n).second, side << " feature '" << n << "' is listed twice");
  }
}

}  // namespace

void check_movielens_feature_names(const FeatureConfig& c) {
  check_known(c.user, known_user_features(), "user");
  check_known(c.item, known_item_features(), "item");
}

void FeatureConfig::validate() const {
  check_distinct(user, "user");
  check_distinct(item, "item");
  // The timestamp feature's table is named "timestamp" among the user
  // tower's parameters; a user column of that name would collide with it.
  TANDEM_CHECK(timestamp_buckets == 0 ||
                   std::find(user.begin(), user.end(), "timestamp") == user.end(),
               "a user feature named 'timestamp' clashes with the timestamp feature "
               "(timestamp_buckets / --timestamp-buckets): use one or the other");
  TANDEM_CHECK(timestamp_buckets >= 0 && timestamp_buckets <= 100000,
               "timestamp buckets must be in 0..100000, got " << timestamp_buckets);
  TANDEM_CHECK(feature_dim > 0 && feature_dim <= 4096,
               "feature dimension must be in 1..4096, got " << feature_dim);
  for (int64_t s : tower_layers)
    TANDEM_CHECK(s > 0 && s <= 65536, "tower layer sizes must be in 1..65536, got " << s);
  TANDEM_CHECK(hash_buckets >= 0 && hash_buckets <= (int64_t{1} << 30),
               "hash buckets must be in 0..2^30, got " << hash_buckets);
  TANDEM_CHECK(zip_prefix > 0 && zip_prefix <= 10, "zip prefix must be in 1..10, got " << zip_prefix);
  const size_t user_features = user.size() + (timestamp_buckets > 0 ? 1 : 0);
  TANDEM_CHECK(!enabled() || !tower_layers.empty() || user_features == item.size(),
               "without tower layers both towers must have the same number of features, since "
               "retrieval is the dot product of their outputs (user "
                   << user_features << " incl. the timestamp, item " << item.size()
                   << "): list as many on each side, or set tower_layers (--tower-layers)");
  TANDEM_CHECK(std::is_sorted(age_boundaries.begin(), age_boundaries.end()) &&
                   std::adjacent_find(age_boundaries.begin(), age_boundaries.end()) == age_boundaries.end(),
               "age boundaries must be strictly increasing");
}

}  // namespace tandem
