#include "tandem/artifact/sweep_record.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>

#include "tandem/artifact/trained_model.h"
#include "tandem/core/atomic_file.h"
#include "tandem/core/error.h"
#include "tandem/core/regular_file.h"

namespace tandem {

namespace fs = std::filesystem;

namespace {

constexpr const char* kFormatName = "tandem-sweep";
constexpr int kFormatVersion = 1;
constexpr const char* kRunFile = "run.json";

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

std::string shortest(float v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// One weight of entry `n` ("ranking" or "retrieval"): a whole finite number >= 0.
float parse_weight(const std::string& text, const char* task, size_t n, const std::string& entry) {
  float v = 0.0f;
  const char* end = text.data() + text.size();
  const auto r = std::from_chars(text.data(), end, v);
  TANDEM_CHECK(!text.empty() && r.ec == std::errc() && r.ptr == end,
               "--weights entry " << n << " ('" << entry << "'): " << task << " weight '" << text
                                  << "' is not a number");
  TANDEM_CHECK(std::isfinite(v) && v >= 0.0f, "--weights entry " << n << " ('" << entry << "'): "
                                                                  << task << " weight " << text
                                                                  << " must be finite and >= 0");
  return v;
}

}  // namespace

std::string sweep_model_file_name(const TaskWeights& w) {
  std::string name = "ranking" + shortest(w.ranking) + "_retrieval" + shortest(w.retrieval);
  for (int e = 0; e < w.extra_count; ++e) {
    name += "_extra";
    name += shortest(w.extra[static_cast<size_t>(e)]);
  }
  return name + ".tandem";
}

namespace {

void write_json_atomically(const fs::path& path, const nlohmann::json& j) {
  const std::string text = j.dump(2) + "\n";
  AtomicFile file(path.string());
  file.write(text.data(), text.size());
  file.commit();
}

SweepRecord load_model_dir(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".tandem") files.push_back(e.path());
  TANDEM_CHECK(!files.empty(), dir.string() << ": neither a sweep (no " << kRunFile
                                            << ") nor a directory of .tandem model files");
  std::sort(files.begin(), files.end());
  SweepRecord rec;
  for (const auto& f : files) {
    const TrainedModel m = load_model(f.string());
    if (rec.variants.empty()) {
      rec.config = m.config;
      rec.data_source = m.config.data_dir;
      rec.data = {{"train_pairs", m.config.train_count}, {"test_pairs", m.config.test_count}};
    }
    SweepVariant v = SweepVariant::from_json(m.metrics);
    v.model_file = f.filename().string();
    rec.variants.push_back(std::move(v));
    rec.seconds += rec.variants.back().train_seconds;
  }
  rec.complete = true;
  rec.update_pareto();
  return rec;
}

}  // namespace

std::vector<TaskWeights> parse_weight_pairs(const std::string& spec) {
  std::vector<TaskWeights> out;
  std::set<std::string> seen;
  std::istringstream in(spec);
  std::string raw;
  size_t n = 0;
  while (std::getline(in, raw, ',')) {
    ++n;
    const std::string entry = trim(raw);
    // RANKING:RETRIEVAL, then one weight per extra task in task order.
    std::vector<std::string> parts;
    size_t from = 0;
    for (size_t colon; (colon = entry.find(':', from)) != std::string::npos; from = colon + 1)
      parts.push_back(entry.substr(from, colon - from));
    parts.push_back(entry.substr(from));
    TANDEM_CHECK(parts.size() >= 2 && parts.size() <= 2 + static_cast<size_t>(kMaxExtraTasks),
                 "--weights entry " << n << " ('" << entry
                                    << "'): expected RANKING:RETRIEVAL[:EXTRA...], e.g. 1:0.3");
    TaskWeights w;
    w.ranking = parse_weight(trim(parts[0]), "ranking", n, entry);
    w.retrieval = parse_weight(trim(parts[1]), "retrieval", n, entry);
    w.extra_count = static_cast<int>(parts.size()) - 2;
    bool any_extra = false;
    for (int e = 0; e < w.extra_count; ++e) {
      w.extra[static_cast<size_t>(e)] =
          parse_weight(trim(parts[static_cast<size_t>(e) + 2]), "extra task", n, entry);
      any_extra = any_extra || w.extra[static_cast<size_t>(e)] > 0.0f;
    }
    TANDEM_CHECK(w.ranking > 0.0f || w.retrieval > 0.0f || any_extra,
                 "--weights entry " << n << " ('" << entry << "'): "
                                    << (w.extra_count == 0 ? "both weights are" : "every weight is")
                                    << " 0, so nothing would be trained");
    const std::string label = weights_label(w);
    TANDEM_CHECK(seen.insert(label).second,
                 "--weights entry " << n << " ('" << entry << "'): weights " << label
                                    << " are listed twice");
    out.push_back(w);
  }
  // getline yields nothing for a trailing comma; count it as an empty entry.
  TANDEM_CHECK(spec.empty() || spec.back() != ',',
               "--weights entry " << n + 1 << " (''): expected RANKING:RETRIEVAL, e.g. 1:0.3");
  TANDEM_CHECK(!out.empty(), "--weights is empty: give RANKING:RETRIEVAL pairs, e.g. "
                                 << kDefaultSweepWeights);
  return out;
}

std::string weights_label(const TaskWeights& w) {
  std::string label = shortest(w.ranking) + ":" + shortest(w.retrieval);
  for (int e = 0; e < w.extra_count; ++e) {
    label += ':';
    label += shortest(w.extra[static_cast<size_t>(e)]);
  }
  return label;
}

nlohmann::json SweepVariant::to_json() const {
  nlohmann::json j = eval.to_json();
  j["label"] = label;
  j["ranking_weight"] = weights.ranking;
  j["retrieval_weight"] = weights.retrieval;
  if (weights.extra_count > 0)  // the extra tasks', in task order
    j["extra_weights"] = std::vector<float>(weights.extra.begin(), weights.extra.begin() + weights.extra_count);
  j["model_file"] = model_file;
  j["pareto"] = pareto;
  j["train_seconds"] = train_seconds;
  j["epochs"] = epochs_to_json(history);
  return j;
}

SweepVariant SweepVariant::from_json(const nlohmann::json& j) {
  SweepVariant v;
  try {
    v.weights.ranking = j.at("ranking_weight").get<float>();
    v.weights.retrieval = j.at("retrieval_weight").get<float>();
    if (j.contains("extra_weights")) {
      const auto extra = j.at("extra_weights").get<std::vector<float>>();
      TANDEM_CHECK(extra.size() <= static_cast<size_t>(kMaxExtraTasks), "too many extra_weights");
      v.weights.extra_count = static_cast<int>(extra.size());
      std::copy(extra.begin(), extra.end(), v.weights.extra.begin());
    }
    v.label = j.value("label", weights_label(v.weights));
    v.model_file = j.value("model_file", std::string());
    v.pareto = j.value("pareto", false);
    v.train_seconds = j.at("train_seconds").get<double>();
    v.history = epochs_from_json(j.at("epochs"));
  } catch (const nlohmann::json::exception& e) {
    TANDEM_THROW("bad variant record: " << e.what());
  }
  v.eval = EvalResult::from_json(j);
  return v;
}

std::vector<TradeOffPoint> SweepRecord::trade_offs() const {
  std::vector<TradeOffPoint> p;
  for (const auto& v : variants) {
    TradeOffPoint t{v.eval.topk_accuracy, v.eval.rmse};
    for (const auto& task : v.eval.tasks) t.more.push_back(task.second.auc);  // extra tasks
    p.push_back(t);
  }
  return p;
}

void SweepRecord::update_pareto() {
  const std::vector<bool> on = pareto_front(trade_offs());
  for (size_t i = 0; i < variants.size(); ++i) variants[i].pareto = on[i];
}

std::optional<size_t> SweepRecord::balanced() const { return balanced_choice(trade_offs()); }

size_t SweepRecord::find(const std::string& label) const {
  // "1:1.0" names the same pair as the label "1:1".
  std::string wanted = label;
  try {
    const auto pairs = parse_weight_pairs(label);
    if (pairs.size() == 1) wanted = weights_label(pairs.front());
  } catch (const Error&) {
    // Not a weight pair: it can only match a label literally (and will not).
  }
  std::string known;
  for (size_t i = 0; i < variants.size(); ++i) {
    if (variants[i].label == wanted) return i;
    known += (i ? ", " : "") + variants[i].label;
  }
  TANDEM_THROW("no variant with weights '" << label << "' (the run has " << known << ")");
}

nlohmann::json SweepRecord::to_json() const {
  nlohmann::json j;
  j["format"] = kFormatName;
  j["version"] = kFormatVersion;
  j["status"] = complete ? "complete" : "running";
  j["weights"] = "ranking:retrieval";
  j["started_at"] = started_at;
  j["seconds"] = seconds;
  j["machine"] = machine;
  // The variants differ only in their weights; those are per variant.
  j["config"] = config.to_json();
  j["config"]["tasks"].erase("ranking_weight");
  j["config"]["tasks"].erase("retrieval_weight");
  j["data"] = data;
  j["data"]["source"] = data_source;
  j["variants"] = nlohmann::json::array();
  for (const auto& v : variants) j["variants"].push_back(v.to_json());
  const auto points = trade_offs();
  j["pareto_front"] = nlohmann::json::array();
  for (size_t i : front_order(points)) j["pareto_front"].push_back(variants[i].label);
  const auto b = balanced();
  j["balanced"] = b ? nlohmann::json(variants[*b].label) : nlohmann::json(nullptr);
  return j;
}

SweepRecord SweepRecord::from_json(const nlohmann::json& j, const std::string& where) {
  SweepRecord r;
  try {
    TANDEM_CHECK(j.value("format", "") == kFormatName,
                 "not a sweep record (format '" << j.value("format", "") << "')");
    TANDEM_CHECK(j.value("version", 0) == kFormatVersion,
                 "sweep record version " << j.value("version", 0) << ", this tandem reads "
                                         << kFormatVersion);
    r.complete = j.at("status").get<std::string>() == "complete";
    r.started_at = j.value("started_at", std::string());
    r.seconds = j.value("seconds", 0.0);
    r.machine = j.value("machine", nlohmann::json::object());
    r.data = j.value("data", nlohmann::json::object());
    r.data_source = r.data.value("source", std::string());
    for (const auto& v : j.at("variants")) r.variants.push_back(SweepVariant::from_json(v));
    // The config carries no weights (they are per variant): the defaults
    // stand in, and satisfy its validation.
    r.config = ExperimentConfig::from_json(j.at("config"));
  } catch (const nlohmann::json::exception& e) {
    TANDEM_THROW(where << ": bad sweep record: " << e.what());
  } catch (const Error& e) {
    TANDEM_THROW(where << ": " << e.what());
  }
  r.update_pareto();
  return r;
}

void write_sweep_record(const std::string& run_dir, const SweepRecord& record) {
  write_json_atomically(fs::path(run_dir) / kRunFile, record.to_json());
}

std::string sweep_record_path(const std::string& run_dir) {
  return (fs::path(run_dir) / kRunFile).string();
}

SweepRecord load_run_dir(const std::string& run_dir) {
  const fs::path dir(run_dir), record_path = dir / kRunFile;
  TANDEM_CHECK(fs::is_directory(dir), run_dir << ": no such directory");
  if (!fs::exists(record_path)) return load_model_dir(dir);
  const std::string text = read_regular_file(record_path.string(), "run record");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    TANDEM_THROW(record_path.string() << ": not valid JSON: " << e.what());
  }
  return SweepRecord::from_json(j, record_path.string());
}

}  // namespace tandem
