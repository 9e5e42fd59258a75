#include "tandem/config/experiment_config.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>
#include <utility>

#include "tandem/config/data_config.h"
#include "tandem/core/error.h"
#include "tandem/config/optimizer_json.h"
#include "tandem/config/task_config.h"
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
  if (data_format != "auto") parse_dataset_layout(data_format);  // a known name
  TANDEM_CHECK(train_file.empty() == test_file.empty(),
               "--train and --test must be given together");
  TANDEM_CHECK(explicit_split() || (train_count > 0 && test_count >= 0),
               "split sizes must be positive (train " << train_count << ", test " << test_count
                                                      << ")");
  validate_data_options(*this);
  TANDEM_CHECK(item_key == ItemKey::kId || id_mode == IdMode::kVocabulary,
               "item_key = title needs vocabulary ids ([features] ids = \"vocabulary\", as the tfrs "
               "preset has): with integer ids an item's id is its row");
  TANDEM_CHECK(embedding_dim > 0 && embedding_dim <= 4096,
               "embedding dimension must be in 1..4096, got " << embedding_dim);
  for (int64_t s : layer_sizes)
    TANDEM_CHECK(s > 0 && s <= 65536, "layer sizes must be in 1..65536, got " << s);
  TANDEM_CHECK(std::isfinite(weights.ranking) && weights.ranking >= 0,
               "ranking weight must be finite and >= 0, got " << weights.ranking);
  TANDEM_CHECK(std::isfinite(weights.retrieval) && weights.retrieval >= 0,
               "retrieval weight must be finite and >= 0, got " << weights.retrieval);
  TANDEM_CHECK(weights.ranking > 0 || weights.retrieval > 0 ||
                   std::any_of(extra_tasks.begin(), extra_tasks.end(),
                               [](const ExtraTaskSpec& t) { return t.weight > 0; }),
               "at least one task weight must be positive");
  TANDEM_CHECK(std::isfinite(retrieval.temperature) && retrieval.temperature > 0,
               "retrieval temperature must be positive, got " << retrieval.temperature);
  TANDEM_CHECK(retrieval.hard_negatives >= 0 && retrieval.hard_negatives <= (int64_t{1} << 24),
               "hard_negatives must be in 0..16777216, got " << retrieval.hard_negatives);
  TANDEM_CHECK(retrieval.mixed_negatives >= 0 && retrieval.mixed_negatives <= (int64_t{1} << 24),
               "mixed_negatives must be in 0..16777216, got " << retrieval.mixed_negatives);
  multitask.validate();
  validate_extra_tasks(extra_tasks);
  optimizer.validate();
  TANDEM_CHECK(batch_size > 0 && batch_size <= (1 << 20),
               "batch size must be in 1..1048576, got " << batch_size);
  TANDEM_CHECK(epochs >= 1 && epochs <= 100000, "epochs must be in 1..100000, got " << epochs);
  TANDEM_CHECK(threads >= 0 && threads <= 1024, "threads must be in 0..1024, got " << threads);
  TANDEM_CHECK(k > 0, "k must be positive, got " << k);
  for (int64_t a : accuracy_at) TANDEM_CHECK(a > 0, "accuracy_at values must be positive, got " << a);
  TANDEM_CHECK(eval_batch_size > 0, "evaluation batch size must be positive");
  for (int64_t a : metrics_at) TANDEM_CHECK(a > 0, "metrics_at values must be positive, got " << a);
  TANDEM_CHECK(std::isfinite(positive_threshold),
               "positive threshold must be finite, got " << positive_threshold);
  TANDEM_CHECK(std::isfinite(ranking_margin) && ranking_margin >= 0,
               "ranking margin must be finite and >= 0, got " << ranking_margin);
  TANDEM_CHECK(std::isfinite(ranking_positive_threshold),
               "positive threshold must be finite, got " << ranking_positive_threshold);
  TANDEM_CHECK(memory_budget_bytes >= 0, "memory budget must be >= 0, got " << memory_budget_bytes);
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

nlohmann::json ExperimentConfig::to_json() const {
  nlohmann::json j;
  j["preset"] = preset;
  j["data"] = {{"data_dir", data_dir},
               {"format", data_format},
               {"train_file", train_file},
               {"test_file", test_file},
               {"id_mode", to_string(id_mode)},
               {"item_key", to_string(item_key)},
               {"label_transform", to_string(label_transform)},
               {"seed", seed},
               {"train_count", train_count},
               {"test_count", test_count}};
  data_options_to_json(*this, j["data"]);
  j["model"] = {{"embedding_dim", embedding_dim},
                {"layer_sizes", layer_sizes},
                {"ranking_weight", weights.ranking},
                {"retrieval_weight", weights.retrieval},
                {"multitask", to_string(multitask.arch)},
                {"experts", multitask.experts},
                {"shared_experts", multitask.shared_experts},
                {"task_experts", multitask.task_experts},
                {"expert_dim", multitask.expert_dim},
                {"task_weighting", to_string(multitask.weighting)}};
  j["retrieval"] = {{"temperature", retrieval.temperature},
                    {"remove_accidental_hits", retrieval.remove_accidental_hits},
                    {"logq_correction", retrieval.logq_correction},
                    {"hard_negatives", retrieval.hard_negatives},
                    {"mixed_negatives", retrieval.mixed_negatives}};
  // Only when on, so that a config without features reads as before.
  if (side_features.enabled()) j["side_features"] = side_features.to_json();
  if (!extra_tasks.empty()) j["extra_tasks"] = extra_tasks_to_json(extra_tasks);
  j["train"] = {{"batch_size", batch_size},
                {"epochs", epochs},
                {"shuffle", to_string(shuffle)},
                {"threads", threads},
                {"parallelism", to_string(parallelism)},
                {"distinct_rows", distinct_rows},
                {"ranking_loss", to_string(ranking_loss)},
                {"ranking_margin", ranking_margin},
                {"positive_threshold", ranking_positive_threshold}};
  add_optimizer_json(j["train"], optimizer);
  if (init_seed) j["train"]["init_seed"] = *init_seed;
  j["evaluate"] = {{"k", k}, {"eval_batch_size", eval_batch_size}, {"accuracy_at", accuracy_at}};
  j["evaluate"]["topk_min_rating"] =
      topk_min_rating ? nlohmann::json(*topk_min_rating) : nlohmann::json(nullptr);
  j["evaluate"]["metrics_at"] = metrics_at;
  j["evaluate"]["exclude_seen"] = exclude_seen;
  j["evaluate"]["positive_threshold"] = positive_threshold;
  return j;
}

namespace {

// A value as an error message shows it: numbers as written, anything else by
// its JSON type (a string or array could be arbitrarily long).
std::string shown(const nlohmann::json& v) {
  return v.is_number() ? v.dump() : std::string("a JSON ") + v.type_name();
}

// The config's integers, read strictly. nlohmann's get<T>() would convert a
// JSON float with a cast that is undefined behaviour outside T's range (a
// model file holding "seed": 1.8e19 did that) and would wrap an integer too
// large for T without a word; both are refused here, naming the field.
template <typename T>
T integer_value(const nlohmann::json& v, const std::string& field) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (std::in_range<T>(u)) return static_cast<T>(u);
  } else if (v.is_number_integer()) {
    const auto i = v.get<int64_t>();
    if (std::in_range<T>(i)) return static_cast<T>(i);
  }
  TANDEM_THROW("invalid experiment configuration: " << field << " must be an integer in ["
                                                     << std::numeric_limits<T>::min() << ", "
                                                     << std::numeric_limits<T>::max() << "], got "
                                                     << shown(v));
}

template <typename T>
T integer_field(const nlohmann::json& section, const char* section_name, const char* key) {
  return integer_value<T>(section.at(key), std::string(section_name) + "." + key);
}

// A number that a float holds without overflowing: converting a larger double
// to float is undefined behaviour too, and no setting needs such values.
float float_value(const nlohmann::json& v, const std::string& field) {
  constexpr double kMax = std::numeric_limits<float>::max();
  if (v.is_number()) {
    const double d = v.get<double>();
    if (d >= -kMax && d <= kMax) return static_cast<float>(d);
  }
  TANDEM_THROW("invalid experiment configuration: " << field
                                                     << " must be a number within float range, got "
                                                     << shown(v));
}

float float_field(const nlohmann::json& section, const char* section_name, const char* key) {
  return float_value(section.at(key), std::string(section_name) + "." + key);
}

}  // namespace

ExperimentConfig ExperimentConfig::from_json(const nlohmann::json& j) {
  try {
    ExperimentConfig c;
    c.preset = j.at("preset").get<std::string>();
    const auto& d = j.at("data");
    c.data_dir = d.at("data_dir").get<std::string>();
    c.data_format = d.value("format", std::string("auto"));  // absent in older files
    c.train_file = d.at("train_file").get<std::string>();
    c.test_file = d.at("test_file").get<std::string>();
    const auto id_mode = d.at("id_mode").get<std::string>();
    TANDEM_CHECK(id_mode == "integer" || id_mode == "vocabulary", "bad id_mode '" << id_mode << "'");
    c.id_mode = id_mode == "integer" ? IdMode::kInteger : IdMode::kVocabulary;
    // Absent in files written before title keys: each id its own row.
    c.item_key = parse_item_key(d.value("item_key", std::string("id")));
    const auto lt = d.at("label_transform").get<std::string>();
    TANDEM_CHECK(lt == "raw" || lt == "unit", "bad label_transform '" << lt << "'");
    c.label_transform = lt == "raw" ? LabelTransform::kRaw : LabelTransform::kUnitInterval;
    c.seed = integer_field<uint64_t>(d, "data", "seed");
    c.train_count = integer_field<int64_t>(d, "data", "train_count");
    c.test_count = integer_field<int64_t>(d, "data", "test_count");
    data_options_from_json(d, c);  // absent in older files: the defaults
    const auto& m = j.at("model");
    c.embedding_dim = integer_field<int64_t>(m, "model", "embedding_dim");
    const auto& layers = m.at("layer_sizes");
    TANDEM_CHECK(layers.is_array(), "invalid experiment configuration: model.layer_sizes must be "
                                    "an array of integers, got " << shown(layers));
    c.layer_sizes.clear();
    for (const auto& size : layers)
      c.layer_sizes.push_back(integer_value<int64_t>(size, "model.layer_sizes[]"));
    c.weights.ranking = float_field(m, "model", "ranking_weight");
    c.weights.retrieval = float_field(m, "model", "retrieval_weight");
    if (j.contains("side_features")) c.side_features = FeatureConfig::from_json(j.at("side_features"));
    // Absent in files written before extra tasks: none.
    if (j.contains("extra_tasks")) c.extra_tasks = extra_tasks_from_json(j.at("extra_tasks"));
    if (j.contains("retrieval")) {  // absent in older files: the plain softmax
      const auto& r = j.at("retrieval");
      c.retrieval.temperature = float_field(r, "retrieval", "temperature");
      c.retrieval.remove_accidental_hits = r.at("remove_accidental_hits").get<bool>();
      c.retrieval.logq_correction = r.at("logq_correction").get<bool>();
      c.retrieval.hard_negatives = integer_field<int64_t>(r, "retrieval", "hard_negatives");
      c.retrieval.mixed_negatives = integer_field<int64_t>(r, "retrieval", "mixed_negatives");
    }
    // Absent in files written before mixtures of experts: a shared bottom
    // with fixed weights, which is what those models are.
    c.multitask.arch = parse_multitask_arch(m.value("multitask", std::string("shared-bottom")));
    if (m.contains("experts")) c.multitask.experts = integer_field<int64_t>(m, "model", "experts");
    if (m.contains("shared_experts"))
      c.multitask.shared_experts = integer_field<int64_t>(m, "model", "shared_experts");
    if (m.contains("task_experts"))
      c.multitask.task_experts = integer_field<int64_t>(m, "model", "task_experts");
    if (m.contains("expert_dim")) c.multitask.expert_dim = integer_field<int64_t>(m, "model", "expert_dim");
    c.multitask.weighting = parse_task_weighting(m.value("task_weighting", std::string("fixed")));
    const auto& t = j.at("train");
    c.optimizer = optimizer_from_json(t);
    c.batch_size = integer_field<int64_t>(t, "train", "batch_size");
    c.epochs = integer_field<int>(t, "train", "epochs");
    // Files written before the shuffle modes hold a bool: true was a new order
    // every epoch, false the examples' own order.
    if (t.contains("shuffle"))
      c.shuffle = parse_shuffle_mode(t.at("shuffle").get<std::string>());
    else
      c.shuffle = t.at("reshuffle_each_epoch").get<bool>() ? ShuffleMode::kEveryEpoch : ShuffleMode::kNone;
    c.threads = integer_field<int>(t, "train", "threads");
    c.parallelism = parse_parallelism(t.value("parallelism", std::string("batch")));
    c.distinct_rows = t.value("distinct_rows", true);
    if (t.contains("init_seed") && !t.at("init_seed").is_null())
      c.init_seed = integer_field<uint64_t>(t, "train", "init_seed");
    // Absent in files written before the ranking losses: MSE, as then.
    c.ranking_loss = parse_ranking_loss(t.value("ranking_loss", std::string("mse")));
    if (t.contains("ranking_margin")) c.ranking_margin = float_field(t, "train", "ranking_margin");
    if (t.contains("positive_threshold"))
      c.ranking_positive_threshold = float_field(t, "train", "positive_threshold");
    const auto& e = j.at("evaluate");
    c.k = integer_field<int64_t>(e, "evaluate", "k");
    if (e.contains("accuracy_at")) {
      const auto& at = e.at("accuracy_at");
      TANDEM_CHECK(at.is_array(), "invalid experiment configuration: evaluate.accuracy_at must be "
                                  "an array of integers, got " << shown(at));
      c.accuracy_at.clear();
      for (const auto& v : at) c.accuracy_at.push_back(integer_value<int64_t>(v, "evaluate.accuracy_at[]"));
    }
    c.eval_batch_size = integer_field<int64_t>(e, "evaluate", "eval_batch_size");
    if (!e.at("topk_min_rating").is_null())
      c.topk_min_rating = float_field(e, "evaluate", "topk_min_rating");
    // Absent in model files written before the ranking metrics: defaults.
    if (e.contains("metrics_at")) {
      const auto& at = e.at("metrics_at");
      TANDEM_CHECK(at.is_array(), "invalid experiment configuration: evaluate.metrics_at must be "
                                  "an array of integers, got " << shown(at));
      c.metrics_at.clear();
      for (const auto& v : at) c.metrics_at.push_back(integer_value<int64_t>(v, "evaluate.metrics_at[]"));
    }
    c.exclude_seen = e.value("exclude_seen", false);
    if (e.contains("positive_threshold"))
      c.positive_threshold = float_field(e, "evaluate", "positive_threshold");
    c.validate();
    return c;
  } catch (const nlohmann::json::exception& ex) {
    TANDEM_THROW("invalid experiment configuration: " << ex.what());
  }
}

}  // namespace tandem
