// A cold-start user described by its own features: what a serving request
// (`"features"` of /v1/recommend, `tandem recommend --feature`) says about a
// user the model has no row for, encoded into the user tower's inputs the way
// training encoded its users' attributes.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "tandem/artifact/trained_model.h"
#include "tandem/data/feature_vocabulary.h"
#include "tandem/model/feature_tower.h"

namespace tandem {

// Per feature name of the model's user tower, its raw values: one, or
// several for a bag (MovieLens "age" as digits, "zip" in full: they are
// bucketed and cut as in training). "timestamp" (one integer) picks the
// timestamp feature's bucket.
using RawUserFeatures = std::map<std::string, std::vector<std::string>>;

// Encodes raw user features for one model; the vocabularies are rebuilt once,
// at construction, from what the model file keeps. `model` must outlive it.
class UserFeatureEncoder {
 public:
  explicit UserFeatureEncoder(const TrainedModel& model);

  // Whether the model's user tower has side features to describe a user by.
  bool available() const { return !vocabularies_.empty(); }

  // The user tower's inputs for `features`: each value through the feature's
// training vocabulary (a value training never saw gets the out-of-vocabulary
// row, or with hashing its bucket), a feature left out gets what a user
// without a side-file record got in training (the OOV row, or no value when
// hashed), and the id part is the user vocabulary's OOV row when it has one
// (as an unseen test user in evaluation), else none (zeros). Errors are
// RequestErrors on "features" (field "features.<name>"): a model without a
// user tower, a name the tower lacks (listing the ones it has), a bad age or
// timestamp, a feature given no value. Thread-safe.
  DescribedEntity encode(const RawUserFeatures& features) const;

 private:
  const TrainedModel& model_;
  std::vector<FeatureVocabulary> vocabularies_;  // per user-tower feature; empty: no features
};

}  // namespace tandem
