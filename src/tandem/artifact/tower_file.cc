#include "tandem/artifact/tower_file.h"

#include "tandem/core/error.h"

namespace tandem {

namespace {

std::string list_name(const char* side, const std::string& feature, const char* what) {
  return std::string("tower/") + side + "/" + feature + "/" + what;
}

nlohmann::json tower_json(const TowerSpec& t) {
  nlohmann::json features = nlohmann::json::array();
  for (const auto& f : t.features)
    features.push_back({{"name", f.name}, {"rows", f.rows}, {"dim", f.dim}, {"per_example", f.per_example}});
  return {{"layers", t.layers}, {"features", features}};
}

void add_tower(const char* side, const TowerSpec& t, ModelBundle& b) {
  for (const auto& f : t.features) {
    if (f.per_example) {
      b.id_lists.emplace_back(list_name(side, f.name, "boundaries"), f.boundaries);
      continue;
    }
    b.id_lists.emplace_back(list_name(side, f.name, "offsets"), f.offsets);
    b.id_lists.emplace_back(list_name(side, f.name, "values"),
                            std::vector<int64_t>(f.values.begin(), f.values.end()));
    b.string_lists.emplace_back(list_name(side, f.name, "vocabulary"), f.vocabulary);
  }
}

TowerSpec read_tower(const char* side, const nlohmann::json& j, const ModelBundle& b) {
  TowerSpec t;
  t.layers = j.at("layers").get<std::vector<int64_t>>();
  for (const auto& fj : j.at("features")) {
    TowerFeature f;
    f.name = fj.at("name").get<std::string>();
    f.rows = fj.at("rows").get<int64_t>();
    f.dim = fj.at("dim").get<int64_t>();
    f.per_example = fj.at("per_example").get<bool>();
    if (f.per_example) {
      f.boundaries = b.ids(list_name(side, f.name, "boundaries"));
    } else {
      f.offsets = b.ids(list_name(side, f.name, "offsets"));
      for (int64_t v : b.ids(list_name(side, f.name, "values"))) {
        TANDEM_CHECK(v >= 0 && v < f.rows, side << " feature '" << f.name << "': value row " << v
                                                << " outside its table of " << f.rows << " rows");
        f.values.push_back(static_cast<int32_t>(v));
      }
      f.vocabulary = b.strings(list_name(side, f.name, "vocabulary"));
    }
    t.features.push_back(std::move(f));
  }
  return t;
}

}  // namespace

void add_towers(const ModelShape& shape, ModelBundle& b) {
  if (!shape.has_towers()) return;
  b.metadata["towers"] = {{"user", tower_json(shape.user_tower)}, {"item", tower_json(shape.item_tower)}};
  add_tower("user", shape.user_tower, b);
  add_tower("item", shape.item_tower, b);
}

void read_towers(const ModelBundle& b, const std::string& source, ModelShape& shape) {
  if (!b.metadata.contains("towers")) return;
  try {
    const auto& j = b.metadata.at("towers");
    shape.user_tower = read_tower("user", j.at("user"), b);
    shape.item_tower = read_tower("item", j.at("item"), b);
    validate_tower(shape.user_tower, shape.user_rows, "user");
    validate_tower(shape.item_tower, shape.item_rows, "item");
  } catch (const nlohmann::json::exception& e) {
    TANDEM_THROW(source << ": bad tower metadata: " << e.what());
  } catch (const Error& e) {
    TANDEM_THROW(source << ": " << e.what());
  }
}

}  // namespace tandem
