// A trained model with everything needed to evaluate and recommend: its
// config, vocabularies, catalogue (ids, titles, rows), weights and metrics.
// This is what the single model file holds.
#pragma once

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

  // Fills the three fields above from training examples.
  void set_training_interactions(const Examples& train);

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

void save_model(const std::string& path, const TrainedModel& m);
// The model a decoded model file holds. Validates shapes and ids against each
// other; errors name `source` (the file, for load_model).
TrainedModel model_from_bundle(const ModelBundle& bundle, const std::string& source);
// model_from_bundle(read_model_file(path), path).
TrainedModel load_model(const std::string& path);

}  // namespace tandem
