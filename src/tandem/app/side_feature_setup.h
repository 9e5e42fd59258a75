// From the data directory's side files (u.user, u.item; users.dat,
// movies.dat) and the training ratings to the towers' inputs: one
// vocabulary per feature built on training data (OOV row for unseen values,
// or hashed), each user/item-table row's bag of feature rows, and the
// timestamp's bucket boundaries (quantiles of the training timestamps).
#pragma once

#include <string>

#include "tandem/app/feature_config.h"
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
// items map to the OOV row.
TowerSpecs build_tower_specs(const FeatureConfig& config, const SideAttributes* user_attributes,
                             const SideAttributes* item_attributes, const Ratings& train,
                             const Vocabulary& users, const Vocabulary& items);

// Reads the side files of `data_dir` (layout "movielens-100k" or
// "movielens-1m") that `config` needs, then build_tower_specs.
TowerSpecs load_tower_specs(const FeatureConfig& config, const std::string& data_dir,
                            const std::string& layout, const Ratings& train,
                            const Vocabulary& users, const Vocabulary& items);

}  // namespace tandem
