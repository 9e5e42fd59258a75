// From the data's side attributes (a MovieLens directory's u.user, u.item;
// users.dat, movies.dat; or the csv format's columns) and the training
// ratings to the towers' inputs: one
// vocabulary per feature built on training data (OOV row for unseen values,
// or hashed), each user/item-table row's bag of feature rows, and the
// timestamp's bucket boundaries (quantiles of the training timestamps).
#pragma once

#include <string>

#include "tandem/config/experiment_config.h"
#include "tandem/config/feature_config.h"
#include "tandem/prepare/split_ratings.h"
#include "tandem/data/ratings.h"
#include "tandem/data/side_attributes.h"
#include "tandem/data/vocabulary.h"
#include "tandem/model/feature_tower.h"

namespace tandem {

struct TowerSpecs {
  TowerSpec user, item;
};

// `user_attributes` / `item_attributes` may be null when no feature of that
// side is asked for. Entity rows without a record (the id vocabulary's OOV
// row, ids missing from the side file) get each feature's OOV row (or, when
// hashed, no value). Values never seen among the training ratings' users or
// items map to the OOV row. With `movielens_values` the MovieLens features
// "age" and "zip" are bucketised and cut to a prefix as the config says;
// otherwise (the csv format's columns) every value is taken as it is.
TowerSpecs build_tower_specs(const FeatureConfig& config, const SideAttributes* user_attributes,
                             const SideAttributes* item_attributes, const Ratings& train,
                             const Vocabulary& users, const Vocabulary& items,
                             bool movielens_values = true);

// One entity's values of feature `name` as the towers' vocabularies hold
// them: with `movielens_values` MovieLens "age" bucketised by the config's
// boundaries and "zip" cut to its prefix (ages are digits, checked when
// read), every other value as it is; sorted, repeats removed. Training and
// serving (a cold-start user's own features) both encode through it.
std::vector<std::string> feature_values(const FeatureConfig& config, const std::string& name,
                                        const std::vector<std::string>& raw, bool movielens_values);

// Reads the side attributes that config.side_features needs, then
// build_tower_specs. MovieLens layouts ("movielens-100k", "movielens-1m"):
// the data directory's side files. The csv format: user features from the
// users file when one is set, else from the ratings file (the training file
// with --train/--test); item features likewise from the items file or the
// ratings file. `names` are the interned string ids (vocabulary id mode).
TowerSpecs load_tower_specs(const ExperimentConfig& config, const std::string& layout,
                            const IdNames& names, const Ratings& train, const Vocabulary& users,
                            const Vocabulary& items);

}  // namespace tandem
