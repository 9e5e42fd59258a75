#include "tandem/config/experiment_config.h"

#include <algorithm>
#include <limits>
#include <thread>
#include <utility>

#include "tandem/config/data_config.h"
#include "tandem/config/task_config.h"
#include "tandem/core/error.h"
#include "tandem/config/settings.h"
#include "tandem/data/dataset_layout.h"

namespace tandem {

std::vector<std::string> preset_names() { return {"kerasrs", "tfrs"}; }

ExperimentConfig preset_config(const std::string& name) {
  ExperimentConfig c;
  c.preset = name;
  if (name == "kerasrs") {
    // keras-io examples/keras_rs/multi_task.py
    c.id_mode = IdMode::kInteger;
    c.label_transform = LabelTransform::kUnitInterval;
    c.batch_size = 1000;
    c.epochs = 5;
    c.shuffle = ShuffleMode::kNone;  // the split's order, batched, cached
    c.k = 10;
    c.eval_batch_size = 1000;
    c.topk_min_rating = 5.0f;  // metric weight = (label > 0.9)
  } else if (name == "tfrs") {
    // tensorflow/recommenders docs/examples/multitask.ipynb
    c.id_mode = IdMode::kVocabulary;
    c.item_key = ItemKey::kTitle;  // StringLookup(vocabulary=unique_movie_titles)
    c.label_transform = LabelTransform::kRaw;
    c.batch_size = 8192;
    c.epochs = 3;
    c.shuffle = ShuffleMode::kOnce;  // train.shuffle(100_000).batch(8192).cache()
    c.k = 100;
    c.eval_batch_size = 4096;
    c.topk_min_rating.reset();
  } else {
    TANDEM_THROW("unknown preset '" << name << "' (known presets: kerasrs, tfrs)");
  }
  return c;
}

void ExperimentConfig::validate() const {
  // Each setting's kind, range and choices, as the registry declares them;
  // below, what no single setting can check.
  for (const Setting& s : settings()) {
    try {
      check_setting_value(s, s.get(*this));
    } catch (const Error& e) {
      TANDEM_THROW(s.display_name() << " " << e.what());
    }
  }
  if (data_format != "auto") parse_dataset_layout(data_format);  // a known name
  TANDEM_CHECK(train_file.empty() == test_file.empty(),
               "--train and --test must be given together");
  validate_data_options(*this);
  TANDEM_CHECK(item_key == ItemKey::kId || id_mode == IdMode::kVocabulary,
               "item_key = title needs vocabulary ids ([features] ids = \"vocabulary\", as the tfrs "
               "preset has): with integer ids an item's id is its row");
  TANDEM_CHECK(weights.ranking >= 0, "ranking weight must be finite and >= 0, got " << weights.ranking);
  TANDEM_CHECK(weights.retrieval >= 0,
               "retrieval weight must be finite and >= 0, got " << weights.retrieval);
  TANDEM_CHECK(weights.ranking > 0 || weights.retrieval > 0 ||
                   std::any_of(extra_tasks.begin(), extra_tasks.end(),
                               [](const ExtraTaskSpec& t) { return t.weight > 0; }),
               "at least one task weight must be positive");
  TANDEM_CHECK(retrieval.temperature > 0,
               "retrieval temperature must be positive, got " << retrieval.temperature);
  multitask.validate();
  validate_extra_tasks(extra_tasks);
  optimizer.validate();
  TANDEM_CHECK(ranking_margin >= 0, "ranking margin must be finite and >= 0, got " << ranking_margin);
  // Unknown names first: a misspelt feature is the likelier mistake than the
  // tower widths that validate() checks next.
  if (data_format != "csv") check_movielens_feature_names(side_features);
  side_features.validate();
}

ModelShape model_shape(const ExperimentConfig& config, int64_t user_rows, int64_t item_rows) {
  ModelShape shape;
  shape.user_rows = user_rows;
  shape.item_rows = item_rows;
  shape.dim = config.embedding_dim;
  shape.hidden = config.layer_sizes;
  shape.multitask = config.multitask;
  shape.extra_tasks = config.extra_tasks;
  // The heads train on transformed labels: the threshold on that scale.
  for (ExtraTaskSpec& t : shape.extra_tasks)
    t.label_threshold = transform_label(config.label_transform, t.positive_threshold);
  return shape;
}

std::string to_string(Parallelism p) { return p == Parallelism::kBatch ? "batch" : "blas"; }

Parallelism parse_parallelism(const std::string& s) {
  if (s == "batch") return Parallelism::kBatch;
  if (s == "blas") return Parallelism::kBlas;
  TANDEM_THROW("unknown parallelism '" << s << "' (batch or blas)");
}

int effective_threads(const ExperimentConfig& config) {
  if (config.threads > 0) return config.threads;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(std::min(hw, 64u));
}

std::string to_string(IdMode m) { return m == IdMode::kInteger ? "integer" : "vocabulary"; }
std::string to_string(LabelTransform t) { return t == LabelTransform::kRaw ? "raw" : "unit"; }
std::string to_string(ItemKey k) { return k == ItemKey::kId ? "id" : "title"; }

ItemKey parse_item_key(const std::string& s) {
  if (s == "id") return ItemKey::kId;
  if (s == "title") return ItemKey::kTitle;
  TANDEM_THROW("unknown item key '" << s << "' (known: id, title)");
}

float transform_label(LabelTransform t, float rating) {
  return t == LabelTransform::kRaw ? rating : (rating - 1.0f) / 4.0f;
}

float rating_from_label(LabelTransform t, float label) {
  return t == LabelTransform::kRaw ? label : 1.0f + 4.0f * label;
}

namespace {

// A setting's place in the config JSON: its TOML path ("training.epochs" at
// /training/epochs).
nlohmann::json::json_pointer pointer(const std::string& path) {
  std::string p = "/" + path;
  std::replace(p.begin(), p.end(), '.', '/');
  return nlohmann::json::json_pointer(p);
}

}  // namespace

nlohmann::json ExperimentConfig::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const Setting& s : settings())
    if (s.in_model_file) j[pointer(s.path())] = s.get(*this);
  return j;
}

ExperimentConfig ExperimentConfig::from_json(const nlohmann::json& j) {
  TANDEM_CHECK(j.is_object(), "invalid experiment configuration: not a JSON object");
  // Every version wrote the preset; without it this is no config at all.
  TANDEM_CHECK(j.contains("preset"), "invalid experiment configuration: preset is missing");
  ExperimentConfig c;
  for (const Setting& s : settings()) {
    if (!s.in_model_file) continue;
    // The setting's path, else one of the older keys (files written before
    // the registry); absent: the default.
    std::vector<std::string> paths = {s.path()};
    paths.insert(paths.end(), s.aliases.begin(), s.aliases.end());
    for (const std::string& p : paths) {
      const auto ptr = pointer(p);
      bool present = false;
      try {
        present = j.contains(ptr);
      } catch (const nlohmann::json::exception&) {  // a value where a section belongs
      }
      if (!present) continue;
      nlohmann::json v = j.at(ptr);
      if (p != paths.front() && s.from_alias) v = s.from_alias(v);
      try {
        s.set(c, check_setting_value(s, v));
      } catch (const Error& e) {
        TANDEM_THROW("invalid experiment configuration: " << p << " " << e.what());
      }
      break;
    }
  }
  c.validate();
  return c;
}

}  // namespace tandem
