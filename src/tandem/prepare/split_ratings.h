// From the configured files to train and test ratings, before vocabularies:
// the data layout (a MovieLens directory, or the generic csv format), the
// items file, string ids, and the split strategy (random, leave-last-out,
// time). Shared by training (prepare_data) and by evaluate, which re-creates
// a model's split from its stored config.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tandem/config/experiment_config.h"
#include "tandem/data/catalogue.h"
#include "tandem/data/dataset_layout.h"
#include "tandem/data/ratings.h"
#include "tandem/data/split.h"

namespace tandem {

// The strings behind interned ids (csv format with vocabulary ids); null
// pointers when ids are integers.
struct IdNames {
  std::shared_ptr<const std::vector<std::string>> users, items;
};

struct SplitRatings {
  // The whole ratings file's users (the other columns are released once
  // split: see split_ratings_columns); empty with explicit --train/--test.
  Ratings all;
  Ratings train, test;
  Catalogue items;  // the items file's entries; empty when there is none
  IdNames names;
  std::string source;  // where the data came from and how it was split
};

// The data directory's layout: the configured one (not "csv"), or the one
// its files show.
DatasetLayout layout_of(const ExperimentConfig& config);

// Wall seconds of preparing's phases, for data prepare's report: reading
// and parsing the files, splitting them, and (prepare_data) building the
// vocabularies and encoding the examples.
struct PrepareSeconds {
  double load = 0.0, split = 0.0, encode = 0.0;
};

// Loads and splits as `config` says (its data_dir already resolved), parsing
// on effective_threads(config) threads. `known` (a trained model's names)
// seeds the id tables, so the strings a model knows get the ids it was
// trained with. `seconds`, when given, receives the load and split times.
SplitRatings load_split_ratings(const ExperimentConfig& config, const IdNames& known = {},
                                PrepareSeconds* seconds = nullptr);

// Ratings already in memory (the Python module's DataFrame), split as
// `config` says, as if loaded from a file described by `source`; `items` is
// the catalogue (empty: the rated items, untitled). The ratings' id names,
// when they have them, become the split's names.
SplitRatings split_given_ratings(const ExperimentConfig& config, Ratings all, Catalogue items,
                                 const std::string& source);

// The rows of `all` that train and test, per config.split: the seeded random
// split (train_count + test_count rows), leave-last-out or the time cut. The
// last two need timestamps (an error naming `source` otherwise); their train
// rows are shuffled with the seed, as the random split's are, since the
// Keras-RS preset trains in the split's order.
SplitIndices split_indices(const ExperimentConfig& config, const Ratings& all, const std::string& source);

// A test file given to evaluate: u.data, or the config's csv format with ids
// interned after `names` (unknown strings get new ids, which no vocabulary
// holds, so they count as unseen).
Ratings load_test_ratings(const ExperimentConfig& config, const std::string& path, const IdNames& names);

}  // namespace tandem
