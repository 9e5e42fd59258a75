// From files to encoded examples: load ratings and the catalogue, split
// (seeded, or explicit train/test files), build the vocabularies the config
// asks for and map every id to an embedding row.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/config/experiment_config.h"
#include "tandem/prepare/side_feature_setup.h"
#include "tandem/prepare/split_ratings.h"
#include "tandem/data/catalogue.h"
#include "tandem/data/examples.h"
#include "tandem/data/largest_id.h"
#include "tandem/data/ratings.h"
#include "tandem/data/vocabulary.h"

namespace tandem {

// The items retrieval can return: raw id, title and item-table row of each,
// one entry per row (what recommend and serve list).
struct RetrievalCatalogue {
  Catalogue items;
  std::vector<int32_t> rows;  // item-table row per catalogue entry, distinct
  // The top-K accuracy's candidate set when it is not `rows`: with items keyed
  // by title, TFRS's FactorizedTopK scores `movies.batch(128).map(movie_model)`,
  // one candidate per items-file entry, so a row that two movies share is a
  // candidate twice. Empty: the candidates are `rows`.
  std::vector<int32_t> candidate_rows;

  size_t size() const { return rows.size(); }
  const std::vector<int32_t>& candidates() const { return candidate_rows.empty() ? rows : candidate_rows; }
  // Catalogue index of an item-table row, -1 if the row is not in it.
  std::vector<int64_t> index_of_rows(int64_t table_rows) const;
};

// Index in `rows` of each item-table row (any one where a row repeats), -1
// where the row is absent.
std::vector<int64_t> index_of_rows(const std::vector<int32_t>& rows, int64_t table_rows);

// What happened to the test pairs (ids unseen in training are handled and
// counted, never a crash).
struct TestCoverage {
  int64_t pairs = 0;              // test pairs read
  int64_t evaluated = 0;          // pairs with a row for both ids
  int64_t skipped_unknown = 0;    // no row (integer ids outside the table)
  int64_t mapped_to_oov = 0;      // a vocabulary's OOV row was used
  int64_t user_unseen_in_train = 0;
  int64_t item_unseen_in_train = 0;
  nlohmann::json to_json() const;
};

struct PreparedData {
  Vocabulary users, items;
  RetrievalCatalogue catalogue;
  Examples train, test;
  std::vector<float> test_ratings;  // raw ratings of the evaluated test pairs
  TestCoverage coverage;
  // The towers' inputs when config.side_features is on (else empty).
  TowerSpecs towers;
  std::string source;  // human-readable description of where data came from
  IdNames names;       // the strings behind the ids (csv format, vocabulary ids)
  // With integer ids: the largest user and item id, which set the tables'
  // rows, and where each was read (line 0 when unknown, e.g. a store's data).
  LargestId largest_user, largest_item;
};

// Builds everything for `config` (whose data_dir is already resolved).
// `seconds`, when given, receives the time of each phase.
PreparedData prepare_data(const ExperimentConfig& config, PrepareSeconds* seconds = nullptr);
// The same from ratings already loaded and split (split_given_ratings).
// Side features need their files: config.side_features must be off unless
// config names them.
PreparedData prepare_data(const ExperimentConfig& config, SplitRatings data, PrepareSeconds* seconds = nullptr);

// Encodes `ratings` with fixed vocabularies (used for a --test file on an
// existing model): pairs without rows are skipped and counted.
void encode_test(const Ratings& test, const Ratings* train, const Vocabulary& users,
                 const Vocabulary& items, LabelTransform transform, PreparedData& out);

}  // namespace tandem
