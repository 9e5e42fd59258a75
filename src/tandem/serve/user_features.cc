#include "tandem/serve/user_features.h"

#include <algorithm>
#include <charconv>

#include "tandem/prepare/side_feature_setup.h"
#include "tandem/data/side_attributes.h"
#include "tandem/serve/recommender.h"

namespace tandem {

namespace {

// The vocabulary a feature was trained with, from what the model file keeps:
// its values in row order (lookup), or none with more than one row (hashed).
// A lookup vocabulary that saw no value and a single hash bucket both send
// every value to row 0, so the one ambiguous case needs no flag.
FeatureVocabulary vocabulary_of(const TowerFeature& f) {
  if (f.vocabulary.empty() && f.rows > 1) return FeatureVocabulary::hashed(f.rows);
  return FeatureVocabulary::lookup(f.vocabulary);
}

std::string names_of(const TowerSpec& spec) {
  std::string out;
  for (const auto& f : spec.features) out += (out.empty() ? "" : ", ") + f.name;
  return out;
}

}  // namespace

UserFeatureEncoder::UserFeatureEncoder(const TrainedModel& model) : model_(model) {
  for (const TowerFeature& f : model.model->shape().user_tower.features)
    vocabularies_.push_back(vocabulary_of(f));
}

DescribedEntity UserFeatureEncoder::encode(const RawUserFeatures& features) const {
  const TrainedModel& model = model_;
  const TowerSpec& spec = model.model->shape().user_tower;
  if (spec.features.empty()) {
    throw RequestError("features_unsupported", "features",
                       "this model's user tower has no side features, so a user cannot be "
                       "described by them (train with --user-features)");
  }
  for (const auto& entry : features) {
    const std::string& name = entry.first;
    const std::vector<std::string>& values = entry.second;
    const bool known = std::any_of(spec.features.begin(), spec.features.end(),
                                   [&](const TowerFeature& f) { return f.name == name; });
    if (!known) {
      throw RequestError("unknown_feature", "features." + name,
                         "unknown user feature '" + name.substr(0, 64) + "' (this model's: " +
                             names_of(spec) + ")");
    }
    if (values.empty()) {
      throw RequestError("invalid_feature", "features." + name,
                         "user feature '" + name + "' is given no value");
    }
  }
  const bool movielens = model.config.data_format != "csv";
  DescribedEntity e;
  e.id_row = model.users.has_oov() ? Vocabulary::kOovRow : -1;
  for (size_t k = 0; k < spec.features.size(); ++k) {
    const TowerFeature& f = spec.features[k];
    e.bags.emplace_back();
    const auto it = features.find(f.name);
    if (f.per_example) {
      if (it == features.end()) continue;  // the most recent bucket
      const std::string& v = it->second.front();
      int64_t ts = 0;
      const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), ts);
      if (it->second.size() != 1 || ec != std::errc() || p != v.data() + v.size()) {
        throw RequestError("invalid_feature", "features." + f.name,
                           "user feature '" + f.name + "' must be one integer timestamp");
      }
      e.timestamp = ts;
      continue;
    }
    const FeatureVocabulary& vocab = vocabularies_[k];
    if (it == features.end()) {
      if (!vocab.is_hashed()) e.bags.back().push_back(FeatureVocabulary::kOovRow);
      continue;
    }
    if (movielens && f.name == "age") {
      for (const auto& v : it->second)
        if (!is_movielens_age(v))
          throw RequestError("invalid_feature", "features.age",
                             "user feature 'age' must be a non-negative integer, got '" +
                                 v.substr(0, 64) + "'");
    }
    auto& bag = e.bags.back();
    for (const auto& v : feature_values(model.config.side_features, f.name, it->second, movielens))
      bag.push_back(vocab.row(v));
    std::sort(bag.begin(), bag.end());
    bag.erase(std::unique(bag.begin(), bag.end()), bag.end());
  }
  return e;
}

}  // namespace tandem
