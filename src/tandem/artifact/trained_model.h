// A trained model with everything needed to evaluate and recommend: its
// config, vocabularies, catalogue (ids, titles, rows), weights and metrics.
// This is what the single model file holds.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tandem/config/experiment_config.h"
#include "tandem/prepare/prepared_data.h"
#include "tandem/io/model_file.h"
#include "tandem/model/multitask_model.h"

namespace tandem {

// Seen items kept in a file rather than in memory (a store's column, for a
// model trained from the store): read a range at a time.
class SeenItemsReader {
 public:
  virtual ~SeenItemsReader() = default;
  virtual int64_t size() const = 0;
  // Entries [first, first + n) into out; errors name the file, and an entry
  // outside the item table.
  virtual void read(int64_t first, int64_t n, int32_t* out) const = 0;
};

struct TrainedModel {
  ExperimentConfig config;
  Vocabulary users, items;
  RetrievalCatalogue catalogue;
  // The strings behind the ids when the data's ids were strings (csv format,
  // vocabulary ids): id i of the vocabularies and catalogue is names[i].
  IdNames names;
  std::unique_ptr<MultiTaskModel> model;
  nlohmann::json metrics = nlohmann::json::object();  // training history, evaluation
  // What serving needs from the training data: how often each item-table row
  // was seen in training (cold-start popularity) and, per user-table row, the
  // item rows that user rated in training (seen_items[seen_offsets[u] ..
  // seen_offsets[u + 1]), sorted), for "exclude seen".
  std::vector<int64_t> item_train_counts;
  std::vector<int64_t> seen_offsets;
  std::vector<int32_t> seen_items;
  // Set instead of seen_items when the seen items stay in a file (training
  // from a store that holds them: train --prepared); seen_items is then
  // empty. Use the accessors below, which read either.
  std::shared_ptr<const SeenItemsReader> seen_reader;

  // Fills the three fields above from training examples.
  void set_training_interactions(const Examples& train);

  // The number of seen items (seen_offsets.back()).
  int64_t seen_count() const;
  // User row u's seen item rows into `out` (replaced).
  void seen_items_of(int64_t user_row, std::vector<int32_t>& out) const;
  // Calls fn(rows, n) for consecutive chunks of all seen items, in order.
  void for_each_seen_chunk(const std::function<void(const int32_t* rows, size_t n)>& fn) const;
  // Reads seen items held in a file into seen_items (and drops the reader).
  void load_seen_items();

  // How a raw user/item id is written for people: its string when the ids
  // were interned, else the number.
  std::string user_name(int64_t id) const;
  std::string item_name(int64_t id) const;
  // The raw id a person's text names: looked up among the strings when the
  // ids were interned (nullopt if unknown), else parsed as a non-negative
  // integer (nullopt if it is not one).
  std::optional<int64_t> user_id_of(std::string_view text) const;
  std::optional<int64_t> item_id_of(std::string_view text) const;

  // Retrieval item vectors of the catalogue, [catalogue size, task_dim()],
  // row-major (the item embeddings with a shared bottom, the item tower's
  // outputs with side-feature towers): the candidate
  // matrix of every top-K search.
  std::vector<float> catalogue_embeddings() const;
};

// Streams the model to `path` (io/model_file_stream.h): the tables and
// weights are written from where they are, the seen items chunk by chunk
// (from the reader when they are in a file), so saving holds no copy of the
// model. The bytes are those of write_model_file(path, model_bundle(m)).
void save_model(const std::string& path, const TrainedModel& m);
// The model file's content as one bundle in memory (copies everything; the
// seen items are read whole).
ModelBundle model_bundle(const TrainedModel& m);
// The model a decoded model file holds. Validates shapes and ids against each
// other; errors name `source` (the file, for load_model).
TrainedModel model_from_bundle(const ModelBundle& bundle, const std::string& source);
// model_from_bundle(read_model_file(path), path).
TrainedModel load_model(const std::string& path);

}  // namespace tandem
