// Which side features the towers read (docs/config.md, [features]). Off by
// default: no features, no tower layers, and the model is the id embeddings
// alone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tandem {

struct FeatureConfig {
  // User features: with a MovieLens layout any of "age", "gender",
  // "occupation", "zip"; with the csv format, columns (header names or
  // 0-based indices) of the users file, else of the ratings file.
  std::vector<std::string> user;
  // Item features: with a MovieLens layout any of "genres", "year"; with the
  // csv format, columns of the items file, else of the ratings file.
  std::vector<std::string> item;
  // Buckets of the interaction timestamp (a user-tower feature); 0: none.
  int64_t timestamp_buckets = 0;
  // Embedding width of every side feature.
  int64_t feature_dim = 16;
  // Tower MLP layer widths (ReLU between, last linear), the same for both
  // towers; empty: the concatenation is the tower's output.
  std::vector<int64_t> tower_layers;
  // A feature whose training vocabulary has more distinct values than this
  // is hashed into this many rows; 0: never hash.
  int64_t hash_buckets = 0;
  // Characters of the zip code kept.
  int64_t zip_prefix = 3;
  // Age bucket boundaries (MovieLens-1M's groups by default).
  std::vector<int64_t> age_boundaries = {18, 25, 35, 45, 50, 56};

  bool enabled() const {
    return !user.empty() || !item.empty() || timestamp_buckets > 0 || !tower_layers.empty();
  }
  // Throws tandem::Error naming the field. Feature names are checked for
  // repeats and emptiness only: which names exist depends on the data
  // (check_movielens_feature_names).
  void validate() const;
};

const std::vector<std::string>& known_user_features();
const std::vector<std::string>& known_item_features();
// With a MovieLens layout the features are the known names above; throws
// naming an unknown one and listing the known.
void check_movielens_feature_names(const FeatureConfig& config);

}  // namespace tandem
