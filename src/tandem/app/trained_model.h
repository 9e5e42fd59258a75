// A trained model with everything needed to evaluate and recommend: its
// config, vocabularies, catalogue (ids, titles, rows), weights and metrics.
// This is what the single model file holds.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "tandem/app/experiment_config.h"
#include "tandem/app/prepared_data.h"
#include "tandem/model/multitask_model.h"

namespace tandem {

struct TrainedModel {
  ExperimentConfig config;
  Vocabulary users, items;
  RetrievalCatalogue catalogue;
  std::unique_ptr<MultiTaskModel> model;
  nlohmann::json metrics = nlohmann::json::object();  // training history, evaluation

  // Item embeddings of the catalogue, [catalogue size, dim], row-major: the
  // candidate matrix of every top-K search.
  std::vector<float> catalogue_embeddings() const;
};

void save_model(const std::string& path, const TrainedModel& m);
// Validates shapes and ids against each other; errors name the file.
TrainedModel load_model(const std::string& path);

}  // namespace tandem
