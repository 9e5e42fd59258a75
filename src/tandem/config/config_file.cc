#include "tandem/config/config_file.h"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "tandem/config/task_config.h"
#include "tandem/core/byte_size.h"
#include "tandem/core/error.h"

namespace tandem {

namespace {

namespace fs = std::filesystem;

// Where a node came from, for messages: "FILE:LINE".
std::string where(const std::string& source, const toml::node& n) {
  std::ostringstream o;
  o << source << ':' << n.source().begin.line;
  return o.str();
}

// Reads one table strictly: every key must be claimed by a getter, and
// finish() reports the first one that was not.
class TableReader {
 public:
  TableReader(const toml::table& t, std::string source, std::string prefix)
      : t_(t), source_(std::move(source)), prefix_(std::move(prefix)) {}

  const toml::node* find(const char* key) {
    seen_.insert(key);
    return t_.get(key);
  }
  std::string name(const char* key) const { return prefix_.empty() ? key : prefix_ + "." + key; }

  [[noreturn]] void fail(const toml::node& n, const char* key, const std::string& what) const {
    TANDEM_THROW(where(source_, n) << ": '" << name(key) << "' " << what);
  }

  bool get(const char* key, int64_t& out, int64_t lo, int64_t hi) {
    const toml::node* n = find(key);
    if (!n) return false;
    const auto v = n->value_exact<int64_t>();
    if (!v) fail(*n, key, "must be an integer");
    if (*v < lo || *v > hi)
      fail(*n, key, "must be in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + std::to_string(*v));
    out = *v;
    return true;
  }
  bool get(const char* key, int& out, int lo, int hi) {
    int64_t v = out;
    if (!get(key, v, lo, hi)) return false;
    out = static_cast<int>(v);
    return true;
  }
  bool get(const char* key, float& out) {
    const toml::node* n = find(key);
    if (!n) return false;
    const auto v = n->value<double>();  // integers are accepted as numbers
    if (!v || !(n->is_floating_point() || n->is_integer())) fail(*n, key, "must be a number");
    if (!std::isfinite(*v)) fail(*n, key, "must be finite");
    out = static_cast<float>(*v);
    return true;
  }
  bool get(const char* key, double& out) {
    const toml::node* n = find(key);
    if (!n) return false;
    const auto v = n->value<double>();  // integers are accepted as numbers
    if (!v || !(n->is_floating_point() || n->is_integer())) fail(*n, key, "must be a number");
    if (!std::isfinite(*v)) fail(*n, key, "must be finite");
    out = *v;
    return true;
  }
  // A column of a delimited file: its header name (a string) or its 0-based
  // index (an integer).
  bool get(const char* key, ColumnRef& out) {
    const toml::node* n = find(key);
    if (!n) return false;
    if (const auto name = n->value_exact<std::string>()) {
      if (name->empty()) fail(*n, key, "must not be empty");
      out = ColumnRef::named(*name);
      return true;
    }
    const auto index = n->value_exact<int64_t>();
    if (!index || *index < 0) fail(*n, key, "must be a column name (string) or a 0-based index (integer >= 0)");
    out = ColumnRef::at(*index);
    return true;
  }
  bool get(const char* key, bool& out) {
    const toml::node* n = find(key);
    if (!n) return false;
    const auto v = n->value_exact<bool>();
    if (!v) fail(*n, key, "must be true or false");
    out = *v;
    return true;
  }
  bool get(const char* key, std::string& out) {
    const toml::node* n = find(key);
    if (!n) return false;
    const auto v = n->value_exact<std::string>();
    if (!v) fail(*n, key, "must be a string");
    out = *v;
    return true;
  }
  bool get_choice(const char* key, std::string& out, const std::vector<std::string>& choices) {
    if (!get(key, out)) return false;
    for (const auto& c : choices)
      if (c == out) return true;
    std::string list;
    for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
    fail(*t_.get(key), key, "must be one of " + list + ", got '" + out + "'");
  }
  bool get(const char* key, std::vector<int64_t>& out, int64_t lo, int64_t hi) {
    const toml::node* n = find(key);
    if (!n) return false;
    const toml::array* a = n->as_array();
    if (!a) fail(*n, key, "must be an array of integers");
    std::vector<int64_t> v;
    for (const toml::node& e : *a) {
      const auto x = e.value_exact<int64_t>();
      if (!x) fail(e, key, "must be an array of integers");
      if (*x < lo || *x > hi)
        fail(e, key, "entries must be in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + std::to_string(*x));
      v.push_back(*x);
    }
    out = std::move(v);
    return true;
  }
  bool get(const char* key, std::vector<std::string>& out) {
    const toml::node* n = find(key);
    if (!n) return false;
    const toml::array* a = n->as_array();
    if (!a) fail(*n, key, "must be an array of strings");
    std::vector<std::string> v;
    for (const toml::node& e : *a) {
      const auto x = e.value_exact<std::string>();
      if (!x) fail(e, key, "must be an array of strings");
      v.push_back(*x);
    }
    out = std::move(v);
    return true;
  }

  void finish() const {
    for (const auto& [k, v] : t_) {
      const std::string key(k.str());
      if (seen_.count(key)) continue;
      std::string known;
      for (const auto& s : seen_) known += (known.empty() ? "" : ", ") + s;
      TANDEM_THROW(where(source_, v) << ": unknown key '" << name(key.c_str()) << "'"
                                     << (known.empty() ? "" : " (known here: " + known + ")"));
    }
  }

 private:
  const toml::table& t_;
  std::string source_, prefix_;
  std::set<std::string> seen_;
};

const std::vector<std::string> kTables = {"data", "split", "features", "model", "tasks",
                                          "optimizer", "training", "evaluation"};

std::string resolve_path(const std::string& p, const std::string& base_dir) {
  if (p.empty() || base_dir.empty() || fs::path(p).is_absolute()) return p;
  return (fs::path(base_dir) / p).lexically_normal().string();
}

// [data]'s keys for the csv format and the split strategy, and its
// [data.columns] / [data.item_columns] sub-tables.
void read_data_files(TableReader& r, const std::string& source,
                     const std::string& base_dir, ExperimentConfig& c) {
  CsvRatingsSpec& csv = c.csv;
  if (r.get("ratings_file", csv.ratings_file)) csv.ratings_file = resolve_path(csv.ratings_file, base_dir);
  if (r.get("items_file", csv.items_file)) csv.items_file = resolve_path(csv.items_file, base_dir);
  if (r.get("users_file", csv.users_file)) csv.users_file = resolve_path(csv.users_file, base_dir);
  r.get("separator", csv.separator);
  r.get("list_separator", csv.list_separator);
  r.get("header", csv.header);
  std::string split = to_string(c.split);
  if (r.get_choice("split", split, {"random", "leave-last-out", "time"})) c.split = parse_split_strategy(split);
  const auto sub = [&](const char* name) -> const toml::table* {
    const toml::node* n = r.find(name);
    if (!n) return nullptr;
    if (!n->is_table()) r.fail(*n, name, "must be a table ([data." + std::string(name) + "])");
    return n->as_table();
  };
  if (const auto* cols = sub("columns")) {
    TableReader cr(*cols, source, "data.columns");
    cr.get("user", csv.user);
    cr.get("item", csv.item);
    cr.get("rating", csv.rating);
    cr.get("timestamp", csv.timestamp);
    cr.get("weight", csv.weight);
    cr.finish();
  }
  if (const auto* cols = sub("item_columns")) {
    TableReader cr(*cols, source, "data.item_columns");
    cr.get("id", csv.item_id);
    cr.get("title", csv.item_title);
    cr.finish();
  }
  if (const auto* cols = sub("user_columns")) {
    TableReader cr(*cols, source, "data.user_columns");
    cr.get("id", csv.user_file_id);
    cr.finish();
  }
}

}  // namespace

ExperimentConfig parse_config_toml(std::string_view text, const std::string& source,
                                   const std::string& preset_override, const std::string& base_dir) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    TANDEM_THROW(source << ':' << e.source().begin.line << ':' << e.source().begin.column << ": "
                        << e.description());
  }
  TableReader top(root, source, "");
  std::string preset = "kerasrs";
  top.get_choice("preset", preset, preset_names());
  if (!preset_override.empty()) preset = preset_override;
  ExperimentConfig c = preset_config(preset);

  auto table = [&](const char* name) -> const toml::table* {
    const toml::node* n = top.find(name);
    if (!n) return nullptr;
    if (!n->is_table()) top.fail(*n, name, "must be a table ([" + std::string(name) + "])");
    return n->as_table();
  };
  if (const auto* t = table("data")) {
    TableReader r(*t, source, "data");
    if (r.get("dir", c.data_dir)) c.data_dir = resolve_path(c.data_dir, base_dir);
    r.get_choice("format", c.data_format, {"auto", "movielens-100k", "movielens-1m", "movielens-csv", "csv"});
    std::string item_key = to_string(c.item_key);
    if (r.get_choice("item_key", item_key, {"id", "title"})) c.item_key = parse_item_key(item_key);
    if (r.get("train_file", c.train_file)) c.train_file = resolve_path(c.train_file, base_dir);
    if (r.get("test_file", c.test_file)) c.test_file = resolve_path(c.test_file, base_dir);
    read_data_files(r, source, base_dir, c);
    r.finish();
  }
  if (const auto* t = table("split")) {
    TableReader r(*t, source, "split");
    int64_t seed = static_cast<int64_t>(c.seed);
    if (r.get("seed", seed, 0, std::numeric_limits<int64_t>::max())) c.seed = static_cast<uint64_t>(seed);
    r.get("train_count", c.train_count, 1, int64_t{1} << 40);
    r.get("test_count", c.test_count, 0, int64_t{1} << 40);
    r.get("time_cut_fraction", c.time_cut_fraction);
    int64_t cut = 0;
    if (r.get("time_cut_timestamp", cut, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()))
      c.time_cut_timestamp = cut;
    r.finish();
  }
  if (const auto* t = table("features")) {
    TableReader r(*t, source, "features");
    std::string ids = to_string(c.id_mode), label = c.label_transform == LabelTransform::kRaw ? "stars" : "unit-interval";
    if (r.get_choice("ids", ids, {"integer", "vocabulary"}))
      c.id_mode = ids == "integer" ? IdMode::kInteger : IdMode::kVocabulary;
    if (r.get_choice("label", label, {"stars", "unit-interval"}))
      c.label_transform = label == "stars" ? LabelTransform::kRaw : LabelTransform::kUnitInterval;
    FeatureConfig& f = c.side_features;
    r.get("user", f.user);
    r.get("item", f.item);
    r.get("timestamp_buckets", f.timestamp_buckets, 0, 100000);
    r.get("feature_dim", f.feature_dim, 1, 4096);
    r.get("tower_layers", f.tower_layers, 1, 65536);
    r.get("hash_buckets", f.hash_buckets, 0, int64_t{1} << 30);
    r.get("zip_prefix", f.zip_prefix, 1, 10);
    r.get("age_boundaries", f.age_boundaries, 0, 1000);
    r.finish();
  }
  if (const auto* t = table("model")) {
    TableReader r(*t, source, "model");
    r.get("embedding_dim", c.embedding_dim, 1, 4096);
    r.get("layers", c.layer_sizes, 1, 65536);
    std::string arch = to_string(c.multitask.arch);
    if (r.get_choice("multitask", arch, {"shared-bottom", "mmoe", "ple"}))
      c.multitask.arch = parse_multitask_arch(arch);
    r.get("experts", c.multitask.experts, 1, 64);
    r.get("shared_experts", c.multitask.shared_experts, 0, 64);
    r.get("task_experts", c.multitask.task_experts, 0, 64);
    r.get("expert_dim", c.multitask.expert_dim, 1, 4096);
    r.finish();
  }
  if (const auto* t = table("tasks")) {
    TableReader r(*t, source, "tasks");
    r.get("ranking_weight", c.weights.ranking);
    r.get("retrieval_weight", c.weights.retrieval);
    std::string weighting = to_string(c.multitask.weighting);
    if (r.get_choice("task_weighting", weighting, {"fixed", "uncertainty"}))
      c.multitask.weighting = parse_task_weighting(weighting);
    if (const toml::node* extra = r.find("extra")) c.extra_tasks = extra_tasks_from_toml(*extra, source);
    r.finish();
  }
  if (const auto* t = table("retrieval")) {
    TableReader r(*t, source, "retrieval");
    r.get("temperature", c.retrieval.temperature);
    r.get("remove_accidental_hits", c.retrieval.remove_accidental_hits);
    r.get("logq_correction", c.retrieval.logq_correction);
    r.get("hard_negatives", c.retrieval.hard_negatives, 0, int64_t{1} << 24);
    r.get("mixed_negatives", c.retrieval.mixed_negatives, 0, int64_t{1} << 24);
    r.finish();
  }
  if (const auto* t = table("optimizer")) {
    TableReader r(*t, source, "optimizer");
    OptimizerConfig& o = c.optimizer;
    std::string name = to_string(o.kind);
    if (r.get_choice("name", name, optimizer_names())) o.kind = parse_optimizer_kind(name);
    r.get("learning_rate", o.learning_rate);
    r.get("initial_accumulator", o.initial_accumulator);
    r.get("epsilon", o.epsilon);
    r.get("beta1", o.beta1);
    r.get("beta2", o.beta2);
    r.get("momentum", o.momentum);
    r.get("nesterov", o.nesterov);
    r.get("embedding_l2", o.embedding_l2);
    r.get("dense_l2", o.dense_l2);
    std::string schedule = to_string(o.schedule.kind);
    if (r.get_choice("lr_schedule", schedule, lr_schedule_names()))
      o.schedule.kind = parse_lr_schedule(schedule);
    r.get("warmup_steps", o.schedule.warmup_steps, 0, int64_t{1} << 40);
    r.get("decay_steps", o.schedule.decay_steps, 0, int64_t{1} << 40);
    r.get("decay_rate", o.schedule.decay_rate);
    r.get("min_lr_fraction", o.schedule.min_lr_fraction);
    r.finish();
  }
  if (const auto* t = table("training")) {
    TableReader r(*t, source, "training");
    r.get("batch_size", c.batch_size, 1, 1 << 20);
    r.get("epochs", c.epochs, 1, 100000);
    // `shuffle` names the mode; `reshuffle_each_epoch` is its older boolean
    // spelling (true: every-epoch, false: none), read when `shuffle` is absent.
    bool reshuffle = false;
    const bool old_spelling = r.get("reshuffle_each_epoch", reshuffle);
    if (old_spelling) c.shuffle = reshuffle ? ShuffleMode::kEveryEpoch : ShuffleMode::kNone;
    std::string shuffle = to_string(c.shuffle);
    if (r.get_choice("shuffle", shuffle, {"none", "once", "every-epoch"})) {
      TANDEM_CHECK(!old_spelling, source << ": [training] sets both shuffle and its older spelling "
                                            "reshuffle_each_epoch; keep shuffle");
      c.shuffle = parse_shuffle_mode(shuffle);
    }
    int64_t init_seed = 0;
    if (r.get("seed", init_seed, 0, std::numeric_limits<int64_t>::max()))
      c.init_seed = static_cast<uint64_t>(init_seed);
    r.get("threads", c.threads, 0, 1024);
    std::string par = to_string(c.parallelism);
    if (r.get_choice("parallelism", par, {"batch", "blas"})) c.parallelism = parse_parallelism(par);
    bool full = !c.distinct_rows;
    if (r.get("full_score_matrix", full)) c.distinct_rows = !full;
    std::string loss = to_string(c.ranking_loss);
    if (r.get_choice("ranking_loss", loss, ranking_loss_names())) c.ranking_loss = parse_ranking_loss(loss);
    r.get("ranking_margin", c.ranking_margin);
    r.get("positive_threshold", c.ranking_positive_threshold);
    std::string budget;
    if (r.get("memory_budget", budget)) {
      try {
        c.memory_budget_bytes = parse_byte_size(budget);
      } catch (const Error& e) {
        r.fail(*t->get("memory_budget"), "memory_budget", e.what());
      }
    }
    r.finish();
  }
  if (const auto* t = table("evaluation")) {
    TableReader r(*t, source, "evaluation");
    r.get("k", c.k, 1, int64_t{1} << 31);
    r.get("accuracy_at", c.accuracy_at, 1, int64_t{1} << 31);
    r.get("batch_size", c.eval_batch_size, 1, int64_t{1} << 24);
    float min_rating = 0;
    if (r.get("min_rating", min_rating)) c.topk_min_rating = min_rating;
    r.get("metrics_at", c.metrics_at, 1, int64_t{1} << 31);
    r.get("exclude_seen", c.exclude_seen);
    r.get("positive_threshold", c.positive_threshold);
    std::vector<std::string> metrics;
    if (r.get("metrics", metrics)) {
      for (const auto& m : metrics)
        if (m != "topk_accuracy" && m != "rmse")
          r.fail(*t->get("metrics"), "metrics", "lists '" + m + "'; known metrics: topk_accuracy, rmse");
    }
    r.finish();
  }
  top.finish();
  try {
    c.validate();
  } catch (const Error& e) {
    TANDEM_THROW(source << ": " << e.what());
  }
  return c;
}

ExperimentConfig load_config_file(const std::string& path, const std::string& preset_override) {
  std::ifstream in(path, std::ios::binary);
  TANDEM_CHECK(in, "cannot open config file " << path);
  std::ostringstream text;
  text << in.rdbuf();
  const std::string base = fs::absolute(path).parent_path().string();
  return parse_config_toml(text.str(), path, preset_override, base);
}

std::string config_to_toml(const ExperimentConfig& c) {
  std::ostringstream o;
  auto str = [](const std::string& s) {
    std::ostringstream q;
    q << toml::value<std::string>(s);
    return q.str();
  };
  auto list = [](const std::vector<int64_t>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
    return s + "]";
  };
  auto num = [](float v) {
    // The shortest text that reads back as the same float (0.1, not
    // 0.100000001), kept a TOML float.
    char buf[32];
    const auto res = std::to_chars(buf, buf + sizeof buf, v);
    std::string t(buf, res.ptr);
    if (t.find_first_of(".eEn") == std::string::npos) t += ".0";
    return t;
  };
  auto dnum = [](double v) {
    char buf[32];
    const auto res = std::to_chars(buf, buf + sizeof buf, v);
    std::string t(buf, res.ptr);
    if (t.find_first_of(".eEn") == std::string::npos) t += ".0";
    return t;
  };
  o << "preset = " << str(c.preset) << "\n\n[data]\n";
  o << "dir = " << str(c.data_dir) << "\nformat = " << str(c.data_format) << "\n";
  if (!c.train_file.empty()) o << "train_file = " << str(c.train_file) << "\n";
  if (!c.test_file.empty()) o << "test_file = " << str(c.test_file) << "\n";
  o << "split = " << str(to_string(c.split)) << "\nitem_key = " << str(to_string(c.item_key)) << "\n";
  if (c.data_format == "csv") {
    const CsvRatingsSpec& s = c.csv;
    const auto col = [&](const ColumnRef& r) { return r.name.empty() ? std::to_string(r.index) : str(r.name); };
    if (!s.ratings_file.empty()) o << "ratings_file = " << str(s.ratings_file) << "\n";
    if (!s.items_file.empty()) o << "items_file = " << str(s.items_file) << "\n";
    if (!s.users_file.empty()) o << "users_file = " << str(s.users_file) << "\n";
    o << "separator = " << str(s.separator) << "\nheader = " << (s.header ? "true" : "false") << "\n";
    if (!s.list_separator.empty()) o << "list_separator = " << str(s.list_separator) << "\n";
    o << "\n[data.columns]\n";
    const std::pair<const char*, const ColumnRef*> cols[] = {
        {"user", &s.user}, {"item", &s.item}, {"rating", &s.rating}, {"timestamp", &s.timestamp},
        {"weight", &s.weight}};
    for (const auto& [key, ref] : cols)
      if (ref->mapped()) o << key << " = " << col(*ref) << "\n";
    o << "\n[data.item_columns]\nid = " << col(s.item_id) << "\ntitle = " << col(s.item_title) << "\n";
    if (!s.users_file.empty()) o << "\n[data.user_columns]\nid = " << col(s.user_file_id) << "\n";
  }
  o << "\n[split]\nseed = " << c.seed << "\ntrain_count = " << c.train_count
    << "\ntest_count = " << c.test_count << "\ntime_cut_fraction = " << dnum(c.time_cut_fraction) << "\n";
  if (c.time_cut_timestamp) o << "time_cut_timestamp = " << *c.time_cut_timestamp << "\n";
  o << "\n[features]\nids = " << str(to_string(c.id_mode)) << "\nlabel = "
    << str(c.label_transform == LabelTransform::kRaw ? "stars" : "unit-interval") << "\n";
  if (c.side_features.enabled()) {
    const FeatureConfig& f = c.side_features;
    auto strs = [&](const std::vector<std::string>& v) {
      std::string s = "[";
      for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + str(v[i]);
      return s + "]";
    };
    o << "user = " << strs(f.user) << "\nitem = " << strs(f.item)
      << "\ntimestamp_buckets = " << f.timestamp_buckets << "\nfeature_dim = " << f.feature_dim
      << "\ntower_layers = " << list(f.tower_layers) << "\nhash_buckets = " << f.hash_buckets
      << "\nzip_prefix = " << f.zip_prefix << "\nage_boundaries = " << list(f.age_boundaries) << "\n";
  }
  o << "\n[model]\nembedding_dim = " << c.embedding_dim << "\nlayers = " << list(c.layer_sizes) << "\n";
  // The expert settings only when they matter, so a preset prints as before.
  const MultitaskSpec defaults;
  const MultitaskSpec& mt = c.multitask;
  if (mt.has_experts() || mt.experts != defaults.experts ||
      mt.shared_experts != defaults.shared_experts || mt.task_experts != defaults.task_experts ||
      mt.expert_dim != defaults.expert_dim) {
    o << "multitask = " << str(to_string(mt.arch)) << "\nexperts = " << mt.experts
      << "\nshared_experts = " << mt.shared_experts << "\ntask_experts = " << mt.task_experts
      << "\nexpert_dim = " << mt.expert_dim << "\n";
  }
  o << "\n[tasks]\nranking_weight = " << num(c.weights.ranking)
    << "\nretrieval_weight = " << num(c.weights.retrieval) << "\n";
  if (mt.weighting != TaskWeighting::kFixed)
    o << "task_weighting = " << str(to_string(mt.weighting)) << "\n";
  o << extra_tasks_to_toml(c.extra_tasks);
  o << "\n[retrieval]\ntemperature = " << num(c.retrieval.temperature)
    << "\nremove_accidental_hits = " << (c.retrieval.remove_accidental_hits ? "true" : "false")
    << "\nlogq_correction = " << (c.retrieval.logq_correction ? "true" : "false")
    << "\nhard_negatives = " << c.retrieval.hard_negatives
    << "\nmixed_negatives = " << c.retrieval.mixed_negatives << "\n";
  const OptimizerConfig& opt = c.optimizer;
  o << "\n[optimizer]\nname = " << str(to_string(opt.kind)) << "\nlearning_rate = " << num(opt.learning_rate)
    << "\ninitial_accumulator = " << num(opt.initial_accumulator) << "\nepsilon = " << num(opt.epsilon)
    << "\nbeta1 = " << num(opt.beta1) << "\nbeta2 = " << num(opt.beta2)
    << "\nmomentum = " << num(opt.momentum) << "\nnesterov = " << (opt.nesterov ? "true" : "false")
    << "\nembedding_l2 = " << num(opt.embedding_l2) << "\ndense_l2 = " << num(opt.dense_l2)
    << "\nlr_schedule = " << str(to_string(opt.schedule.kind))
    << "\nwarmup_steps = " << opt.schedule.warmup_steps << "\ndecay_steps = " << opt.schedule.decay_steps
    << "\ndecay_rate = " << num(opt.schedule.decay_rate)
    << "\nmin_lr_fraction = " << num(opt.schedule.min_lr_fraction) << "\n";
  o << "\n[training]\n";
  if (c.init_seed) o << "seed = " << *c.init_seed << "\n";
  o << "batch_size = " << c.batch_size << "\nepochs = " << c.epochs
    << "\nshuffle = " << str(to_string(c.shuffle))
    << "\nthreads = " << c.threads << "\nparallelism = " << str(to_string(c.parallelism))
    << "\nfull_score_matrix = " << (c.distinct_rows ? "false" : "true")
    << "\nranking_loss = " << str(to_string(c.ranking_loss))
    << "\nranking_margin = " << num(c.ranking_margin)
    << "\npositive_threshold = " << num(c.ranking_positive_threshold) << "\n";
  if (c.memory_budget_bytes > 0) o << "memory_budget = " << str(std::to_string(c.memory_budget_bytes)) << "\n";
  o << "\n[evaluation]\nk = " << c.k << "\naccuracy_at = " << list(c.accuracy_at)
    << "\nbatch_size = " << c.eval_batch_size << "\n";
  if (c.topk_min_rating) o << "min_rating = " << num(*c.topk_min_rating) << "\n";
  o << "metrics_at = " << list(c.metrics_at) << "\nexclude_seen = " << (c.exclude_seen ? "true" : "false")
    << "\npositive_threshold = " << num(c.positive_threshold) << "\n";
  o << "metrics = [\"topk_accuracy\", \"rmse\"]\n";
  return o.str();
}

}  // namespace tandem
