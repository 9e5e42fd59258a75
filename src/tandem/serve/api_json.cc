#include "tandem/serve/api_json.h"

#include <charconv>
#include <limits>
#include <optional>

namespace tandem {

namespace {

using json = nlohmann::json;

RequestError missing(const std::string& field) {
  return {"missing_field", field, "field '" + field + "' is required"};
}
RequestError wrong_type(const std::string& field, const std::string& want) {
  return {"invalid_type", field, "field '" + field + "' must be " + want};
}

json parse_object(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw RequestError("invalid_json", "body", "request body is not valid JSON");
  if (!j.is_object())
    throw RequestError("invalid_json", "body", "request body must be a JSON object");
  return j;
}

// A JSON integer as int64: floats, strings, booleans and values beyond int64
// are refused (no silent truncation).
int64_t as_int(const json& v, const char* field) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw RequestError("out_of_range", field, std::string("field '") + field + "' is too large");
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  throw wrong_type(field, "an integer");
}

int64_t int_field(const json& j, const char* field, std::optional<int64_t> fallback) {
  const auto it = j.find(field);
  if (it == j.end() || it->is_null()) {
    if (fallback) return *fallback;
    throw missing(field);
  }
  return as_int(*it, field);
}

// user_id: a string holding an integer, or a JSON integer (the Recommender
// parses the string and refuses non-integers).
std::string user_field(const json& j) {
  const auto it = j.find("user_id");
  if (it == j.end() || it->is_null()) throw missing("user_id");
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer() || it->is_number_unsigned()) return std::to_string(as_int(*it, "user_id"));
  throw wrong_type("user_id", "a string or an integer");
}

}  // namespace

RecommendRequest decode_recommend_request(std::string_view body) {
  const json j = parse_object(body);
  RecommendRequest r;
  r.user_id = user_field(j);
  r.k = int_field(j, "k", 10);
  r.candidates = int_field(j, "candidates", r.k);
  if (const auto it = j.find("exclude_seen"); it != j.end() && !it->is_null()) {
    if (!it->is_boolean()) throw wrong_type("exclude_seen", "a boolean");
    r.exclude_seen = it->get<bool>();
  }
  if (const auto it = j.find("features"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) throw wrong_type("features", "an object of feature names to values");
    RawUserFeatures f;
    for (const auto& [name, v] : it->items()) {
      const std::string field = "features." + name.substr(0, 64);
      const auto text = [&](const json& x) -> std::string {
        if (x.is_string()) return x.get<std::string>();
        if (x.is_number_integer() || x.is_number_unsigned()) return std::to_string(as_int(x, "features"));
        throw wrong_type(field, "a string, an integer, or an array of them");
      };
      auto& values = f[name];
      if (v.is_array()) {
        for (const auto& x : v) values.push_back(text(x));
      } else {
        values.push_back(text(v));
      }
    }
    r.features = std::move(f);
  }
  return r;
}

ScoreRequest decode_score_request(std::string_view body, int64_t max_items) {
  const json j = parse_object(body);
  ScoreRequest r;
  r.user_id = user_field(j);
  const auto it = j.find("item_ids");
  if (it == j.end() || it->is_null()) throw missing("item_ids");
  if (!it->is_array()) throw wrong_type("item_ids", "an array of integers");
  if (static_cast<int64_t>(it->size()) > max_items)
    throw RequestError("too_many_items", "item_ids",
                       "item_ids holds " + std::to_string(it->size()) + " ids, at most " +
                           std::to_string(max_items) + " allowed");
  const bool names = !it->empty() && it->front().is_string();
  for (const auto& v : *it) {
    if (names) {
      if (!v.is_string()) throw wrong_type("item_ids", "an array of integers or of strings");
      r.item_names.push_back(v.get<std::string>());
    } else {
      if (!v.is_number_integer()) throw wrong_type("item_ids", "an array of integers or of strings");
      r.item_ids.push_back(as_int(v, "item_ids"));
    }
  }
  return r;
}

std::vector<int64_t> resolve_item_names(const std::vector<std::string>& names,
                                        const Recommender& rec, const char* field) {
  std::vector<int64_t> ids;
  ids.reserve(names.size());
  for (const auto& n : names) {
    const auto id = rec.item_id_of_name(n);
    if (!id) {
      throw RequestError("unknown_item", field,
                         "item '" + n.substr(0, 64) + "' is not in the model" +
                             (rec.model().names.items ? "" : " (it was trained on integer item ids)"));
    }
    ids.push_back(*id);
  }
  return ids;
}

namespace {
json item_id_json(int64_t id, const std::vector<std::string>* names) {
  if (names != nullptr && id >= 0 && id < static_cast<int64_t>(names->size()))
    return json((*names)[static_cast<size_t>(id)]);
  return json(id);
}
}  // namespace

int64_t decode_int_param(const std::string& name, const std::string& text) {
  int64_t v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size())
    throw wrong_type(name, "an integer");
  return v;
}

json encode_recommend_result(const std::string& user_id, const RecommendResult& r,
                             const std::vector<std::string>* item_names) {
  json items = json::array();
  for (const auto& it : r.items) {
    items.push_back({{"item_id", item_id_json(it.item_id, item_names)},
                     {"title", it.title},
                     {"score", it.score},
                     {"predicted_rating",
                      it.predicted_rating ? json(*it.predicted_rating) : json(nullptr)}});
    // A head trained with another ranking loss predicts no rating: its value
    // goes under its own name (ranking_output.h).
    if (r.ranking_output != RankingOutput::kRating)
      items.back()[ranking_output_key(r.ranking_output)] =
          it.ranking_value ? json(*it.ranking_value) : json(nullptr);
    // Extra tasks' predictions (models with extra tasks only).
    if (!it.tasks.empty()) {
      json tasks = json::object();
      for (const auto& [name, p] : it.tasks) tasks[name] = p;
      items.back()["tasks"] = std::move(tasks);
    }
  }
  return {{"user_id", user_id},
          {"items", std::move(items)},
          {"cold_start", r.cold_start},
          {"from_features", r.from_features},
          {"index", r.index},
          {"timing_ms", {{"retrieve", r.retrieve_ms}, {"rank", r.rank_ms}}}};
}

json encode_similar_items(int64_t item_id, const std::vector<SimilarItem>& items,
                          const std::vector<std::string>* item_names) {
  json out = json::array();
  for (const auto& s : items)
    out.push_back({{"item_id", item_id_json(s.item_id, item_names)}, {"title", s.title}, {"score", s.score}});
  return {{"item_id", item_id_json(item_id, item_names)}, {"items", std::move(out)}};
}

json encode_scores(const std::string& user_id, const std::vector<int64_t>& item_ids,
                   const std::vector<float>& predicted, RankingOutput output,
                   const std::vector<std::string>* item_names, const std::vector<TaskScores>& tasks) {
  json out = json::array();
  const bool rating = output == RankingOutput::kRating;
  for (size_t i = 0; i < item_ids.size() && i < predicted.size(); ++i) {
    out.push_back({{"item_id", item_id_json(item_ids[i], item_names)}, {"predicted_rating", rating ? json(predicted[i]) : json(nullptr)}});
    if (!rating) out.back()[ranking_output_key(output)] = predicted[i];
    if (!tasks.empty()) {
      json t = json::object();
      for (const TaskScores& task : tasks)
        if (i < task.values.size()) t[task.name] = task.values[i];
      out.back()["tasks"] = std::move(t);
    }
  }
  return {{"user_id", user_id}, {"predictions", std::move(out)}};
}

json encode_error(const std::string& code, const std::string& field, const std::string& message) {
  return {{"error", {{"code", code}, {"field", field}, {"message", message}}}};
}

}  // namespace tandem
