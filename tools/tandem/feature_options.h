// The side-feature flags shared by train, compare and sweep (docs/config.md,
// [features]); header-only, used by ExperimentOptions.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

#include "tandem/config/feature_config.h"

namespace tandem::cli {

struct FeatureOptions {
  std::vector<std::string> user, item;
  std::vector<int64_t> tower_layers, age_boundaries;
  bool user_given = false, item_given = false, layers_given = false, ages_given = false;
  std::optional<int64_t> timestamp_buckets, feature_dim, hash_buckets, zip_prefix;

  void add_to(CLI::App& app) {
    app.add_option("--user-features", user,
                   "User side features for the user tower: age,gender,occupation,zip with "
                   "MovieLens data; with --format csv, columns (names or indices) of --users-file, "
                   "else of the ratings file (default none)")
        ->delimiter(',')
        ->each([this](const std::string&) { user_given = true; });
    app.add_option("--item-features", item,
                   "Item side features for the item tower: genres,year with MovieLens data; with "
                   "--format csv, columns of --items-file, else of the ratings file")
        ->delimiter(',')
        ->each([this](const std::string&) { item_given = true; });
    app.add_option("--timestamp-buckets", timestamp_buckets,
                   "Interaction timestamp as a user-tower feature, bucketised into this many "
                   "quantiles of the training timestamps (default 0: off)");
    app.add_option("--feature-dim", feature_dim, "Embedding width of each side feature (default 16)");
    app.add_option("--tower-layers", tower_layers,
                   "Tower MLP layer sizes after the concatenated embeddings, e.g. 64 (default none)")
        ->delimiter(',')
        ->each([this](const std::string&) { layers_given = true; });
    app.add_option("--hash-buckets", hash_buckets,
                   "Hash a feature whose vocabulary has more values than this into this many rows "
                   "(default 0: never)");
    app.add_option("--zip-prefix", zip_prefix, "Characters of the zip code kept (default 3)");
    app.add_option("--age-boundaries", age_boundaries,
                   "Age bucket boundaries (default 18,25,35,45,50,56)")
        ->delimiter(',')
        ->each([this](const std::string&) { ages_given = true; });
  }

  void apply(FeatureConfig& f) const {
    if (user_given) f.user = user;
    if (item_given) f.item = item;
    if (layers_given) f.tower_layers = tower_layers;
    if (ages_given) f.age_boundaries = age_boundaries;
    if (timestamp_buckets) f.timestamp_buckets = *timestamp_buckets;
    if (feature_dim) f.feature_dim = *feature_dim;
    if (hash_buckets) f.hash_buckets = *hash_buckets;
    if (zip_prefix) f.zip_prefix = *zip_prefix;
  }
};

}  // namespace tandem::cli
