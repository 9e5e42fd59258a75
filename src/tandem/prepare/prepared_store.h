// Prepared data on disk (tandem data prepare --output DIR): per split the
// columns of user rows (int32), item rows (int32), labels (float32), and
// timestamps (int64) and weights (float32) when the data has them; the test
// split also its raw ratings; the vocabularies and the retrieval catalogue;
// and in the manifest the row counts, the test coverage and the data
// settings it was prepared with. Files (io/column_store.h):
//   train.users.i32 train.items.i32 train.labels.f32 [train.timestamps.i64]
//   [train.weights.f32], the same for test plus test.ratings.f32,
//   users.vocab.i64 items.vocab.i64 [items.vocab_rows.i32] (keyed: rows),
//   catalogue.ids.i64 catalogue.rows.i32 [catalogue.candidates.i32]
//   catalogue.titles.json
//   train.item_counts.i64 train.seen_offsets.i64 train.seen_items.i32: the
//   training-interaction index (training_interactions.h), which a model
//   trained from the store saves without building or holding it (stores
//   written before it have none: training then builds it from the train
//   columns, holding it in memory)
// All little-endian, as this machine writes them. Training reads the train
// columns in blocks (train/store_batch_source.h); nothing loads them whole.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/config/experiment_config.h"
#include "tandem/io/column_store.h"
#include "tandem/prepare/prepared_data.h"

namespace tandem {

// One split's columns.
struct StoreSplit {
  std::string name;  // "train" or "test"
  int64_t rows = 0;
  bool timestamps = false, weights = false;
  std::string column(const char* what) const;  // e.g. "train.users.i32"
};

// The training-interaction index's files.
inline constexpr const char* kStoreItemCounts = "train.item_counts.i64";
inline constexpr const char* kStoreSeenOffsets = "train.seen_offsets.i64";
inline constexpr const char* kStoreSeenItems = "train.seen_items.i32";

struct PreparedStore {
  ColumnStore files;
  StoreSplit train, test;
  Vocabulary users, items;
  RetrievalCatalogue catalogue;
  TestCoverage coverage;
  std::string source;
  // The settings of the tables [data], [split] and [features] ids/label the
  // store was prepared with (ExperimentConfig JSON layout).
  nlohmann::json data_config;
  // The training-interaction index, when the store has it: the per-row
  // arrays are held (one entry per table row), the seen items stay in
  // kStoreSeenItems (seen_pairs entries), verified on open.
  bool has_seen_index = false;
  std::vector<int64_t> item_train_counts, seen_offsets;
  int64_t seen_pairs = 0;
};

// Writes `data` (prepared with `config`) to the new directory `dir`,
// atomically. String ids and side features are refused (not stored yet).
void write_prepared_store(const std::string& dir, const ExperimentConfig& config, const PreparedData& data);

// Opens and verifies a store: every file's checksum, the columns' sizes
// against the row counts, the vocabularies and catalogue, and the
// training-interaction index (offsets and counts consistent with the train
// split, every seen item a row of the item table, read in blocks).
PreparedStore open_prepared_store(const std::string& dir);

// `config` with the store's data settings in place of its own: a store
// fixes the split, the vocabularies and the label transform.
ExperimentConfig with_store_data(const ExperimentConfig& config, const PreparedStore& store);

// Rows [first, first + count) of a split's columns; `timestamps`/`weights`
// may be null (skipped), and must be null when the split lacks them.
void read_store_rows(const PreparedStore& store, const StoreSplit& split, int64_t first, int64_t count,
                     int32_t* users, int32_t* items, float* labels, int64_t* timestamps, float* weights);

// The first `max_pairs` test examples (all when max_pairs is 0) and their raw
// ratings: the evaluation's input.
void read_store_test(const PreparedStore& store, int64_t max_pairs, Examples& test,
                     std::vector<float>& ratings);

}  // namespace tandem
