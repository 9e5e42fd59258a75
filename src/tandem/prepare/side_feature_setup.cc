#include "tandem/prepare/side_feature_setup.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <unordered_set>

#include "tandem/core/error.h"
#include "tandem/data/feature_vocabulary.h"

namespace tandem {

std::vector<std::string> feature_values(const FeatureConfig& c, const std::string& name,
                                        const std::vector<std::string>& raw, bool movielens) {
  std::vector<std::string> out;
  for (const auto& v : raw) {
    if (!movielens) {
      out.push_back(v);
    } else if (name == "age") {
      int64_t age = 0;
      std::from_chars(v.data(), v.data() + v.size(), age);  // checked digits at parse time
      out.push_back(std::to_string(bucket_of(age, c.age_boundaries)));
    } else if (name == "zip") {
      out.push_back(v.substr(0, static_cast<size_t>(c.zip_prefix)));
    } else {
      out.push_back(v);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

namespace {

// One entity feature: vocabulary on the training entities' values, then the
// bag of every entity-table row.
TowerFeature entity_feature(const FeatureConfig& c, const std::string& name,
                            const SideAttributes& attrs, const std::vector<int64_t>& train_ids,
                            const Vocabulary& vocab, const char* side, bool movielens) {
  const int a = attrs.attribute(name);
  TANDEM_CHECK(a >= 0, side << " feature '" << name << "' is not in this data's " << side << " file");
  std::vector<std::string> seen;
  for (int64_t id : train_ids)
    if (const auto* v = attrs.values(id, a)) {
      for (auto& s : feature_values(c, name, *v, movielens)) seen.push_back(std::move(s));
    }
  const FeatureVocabulary fv = FeatureVocabulary::build(std::move(seen), c.hash_buckets);
  TowerFeature f;
  f.name = name;
  f.rows = fv.rows();
  f.dim = c.feature_dim;
  f.vocabulary = fv.values();
  f.offsets.push_back(0);
  for (int64_t r = 0; r < vocab.rows(); ++r) {
    const bool oov_row = vocab.has_oov() && r == Vocabulary::kOovRow;
    const auto* raw = oov_row ? nullptr : attrs.values(vocab.raw_id(static_cast<int32_t>(r)), a);
    if (raw == nullptr) {
      if (!fv.is_hashed()) f.values.push_back(FeatureVocabulary::kOovRow);
    } else {
      std::vector<int32_t> rows;
      for (const auto& v : feature_values(c, name, *raw, movielens)) rows.push_back(fv.row(v));
      std::sort(rows.begin(), rows.end());
      rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
      f.values.insert(f.values.end(), rows.begin(), rows.end());
    }
    f.offsets.push_back(static_cast<int64_t>(f.values.size()));
  }
  return f;
}

std::vector<int64_t> distinct(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace

TowerSpecs build_tower_specs(const FeatureConfig& c, const SideAttributes* user_attributes,
                             const SideAttributes* item_attributes, const Ratings& train,
                             const Vocabulary& users, const Vocabulary& items,
                             bool movielens_values) {
  c.validate();
  TowerSpecs out;
  if (!c.user.empty()) {
    TANDEM_CHECK(user_attributes != nullptr, "user features need the data's user file");
    const auto ids = distinct(train.users);
    for (const auto& name : c.user)
      out.user.features.push_back(entity_feature(c, name, *user_attributes, ids, users, "user", movielens_values));
  }
  if (c.timestamp_buckets > 0) {
    TANDEM_CHECK(!train.timestamps.empty(), "the timestamp feature needs training timestamps");
    TowerFeature f;
    f.name = "timestamp";
    f.per_example = true;
    f.boundaries = quantile_boundaries(train.timestamps, c.timestamp_buckets);
    f.rows = static_cast<int64_t>(f.boundaries.size()) + 1;
    f.dim = c.feature_dim;
    out.user.features.push_back(std::move(f));
  }
  if (!c.item.empty()) {
    TANDEM_CHECK(item_attributes != nullptr, "item features need the data's item file");
    const auto ids = distinct(train.items);
    for (const auto& name : c.item)
      out.item.features.push_back(entity_feature(c, name, *item_attributes, ids, items, "item", movielens_values));
  }
  out.user.layers = out.item.layers = c.tower_layers;
  return out;
}

namespace {

// The csv format's side attributes of one side: its own file when
// `side_file` is set (ids unique, in column `side_file_id`), else the
// ratings file's rows (ids repeat; column `ratings_id`).
SideAttributes csv_attributes(const ExperimentConfig& c, const std::vector<std::string>& columns,
                              const std::string& side_file, const ColumnRef& side_file_id,
                              const ColumnRef& ratings_id,
                              const std::shared_ptr<const std::vector<std::string>>& names) {
  CsvAttributeSource from;
  if (!side_file.empty()) {
    from = {side_file, side_file_id, false};
  } else {
    from = {c.explicit_split() ? c.train_file : c.csv.ratings_file, ratings_id, true};
  }
  if (!names) return load_csv_attributes(c.csv, from, columns);
  const IdTable table(*names);
  return load_csv_attributes(c.csv, from, columns, &table);
}

}  // namespace

TowerSpecs load_tower_specs(const ExperimentConfig& config, const std::string& layout,
                            const IdNames& names, const Ratings& train, const Vocabulary& users,
                            const Vocabulary& items) {
  namespace fs = std::filesystem;
  const FeatureConfig& c = config.side_features;
  SideAttributes user_attrs, item_attrs;
  const bool csv = config.data_format == "csv";
  if (csv) {
    if (!c.user.empty())
      user_attrs = csv_attributes(config, c.user, config.csv.users_file, config.csv.user_file_id,
                                  config.csv.user, names.users);
    if (!c.item.empty())
      item_attrs = csv_attributes(config, c.item, config.csv.items_file, config.csv.item_id,
                                  config.csv.item, names.items);
  } else {
    const bool ml1m = layout == "movielens-1m";
    TANDEM_CHECK((c.user.empty() && c.item.empty()) || layout == "movielens-100k" || ml1m,
                 "side features are read from MovieLens-100K (u.user, u.item) or -1M (users.dat, "
                 "movies.dat) files, or from the csv format's columns; this data is " << layout);
    check_movielens_feature_names(c);
    const fs::path dir(config.data_dir);
    if (!c.user.empty())
      user_attrs = load_user_attributes((dir / (ml1m ? "users.dat" : "u.user")).string(), ml1m);
    if (!c.item.empty())
      item_attrs = load_item_attributes((dir / (ml1m ? "movies.dat" : "u.item")).string(), ml1m);
  }
  return build_tower_specs(c, c.user.empty() ? nullptr : &user_attrs,
                           c.item.empty() ? nullptr : &item_attrs, train, users, items, !csv);
}

}  // namespace tandem
