#include "tandem/config/data_config.h"

#include <cmath>

#include "tandem/core/error.h"

namespace tandem {

void validate_data_options(const ExperimentConfig& c) {
  if (c.data_format == "csv") {
    validate(c.csv);
    TANDEM_CHECK(c.explicit_split() || !c.csv.ratings_file.empty(),
                 "the csv data format needs a ratings file ([data] ratings_file, or --ratings-file)");
  } else {
    TANDEM_CHECK(c.csv == CsvRatingsSpec{},
                 "ratings_file, items_file, users_file, separator, list_separator, header, "
                 "[data.columns], [data.item_columns] and [data.user_columns] apply to the csv "
                 "data format only; set [data] format = \"csv\" (or --format csv)");
  }
  TANDEM_CHECK(std::isfinite(c.time_cut_fraction) && c.time_cut_fraction > 0 && c.time_cut_fraction <= 1,
               "time_cut_fraction must be in (0, 1], got " << c.time_cut_fraction);
  TANDEM_CHECK(c.split == SplitStrategy::kRandom || !c.explicit_split(),
               "split = " << to_string(c.split)
                          << " splits one ratings file; it cannot be combined with --train/--test");
}

namespace {

nlohmann::json column_json(const ColumnRef& r) {
  if (!r.name.empty()) return r.name;
  if (r.index >= 0) return r.index;
  return nullptr;
}

ColumnRef column_from(const nlohmann::json& v, const char* key) {
  if (v.is_null()) return {};
  if (v.is_string()) return ColumnRef::named(v.get<std::string>());
  TANDEM_CHECK(v.is_number_integer() && v.get<int64_t>() >= 0,
               "invalid experiment configuration: data.csv." << key
                                                              << " must be a column name or index");
  return ColumnRef::at(v.get<int64_t>());
}

}  // namespace

void data_options_to_json(const ExperimentConfig& c, nlohmann::json& data) {
  data["split"] = to_string(c.split);
  data["time_cut_fraction"] = c.time_cut_fraction;
  data["time_cut_timestamp"] =
      c.time_cut_timestamp ? nlohmann::json(*c.time_cut_timestamp) : nlohmann::json(nullptr);
  const CsvRatingsSpec& s = c.csv;
  data["csv"] = {{"ratings_file", s.ratings_file},
                 {"items_file", s.items_file},
                 {"users_file", s.users_file},
                 {"separator", s.separator},
                 {"list_separator", s.list_separator},
                 {"header", s.header},
                 {"user", column_json(s.user)},
                 {"item", column_json(s.item)},
                 {"rating", column_json(s.rating)},
                 {"timestamp", column_json(s.timestamp)},
                 {"weight", column_json(s.weight)},
                 {"item_id", column_json(s.item_id)},
                 {"item_title", column_json(s.item_title)},
                 {"user_file_id", column_json(s.user_file_id)}};
}

void data_options_from_json(const nlohmann::json& data, ExperimentConfig& c) {
  if (data.contains("split")) c.split = parse_split_strategy(data.at("split").get<std::string>());
  if (data.contains("time_cut_fraction")) c.time_cut_fraction = data.at("time_cut_fraction").get<double>();
  if (data.contains("time_cut_timestamp") && !data.at("time_cut_timestamp").is_null()) {
    const auto& t = data.at("time_cut_timestamp");
    TANDEM_CHECK(t.is_number_integer(),
                 "invalid experiment configuration: data.time_cut_timestamp must be an integer");
    c.time_cut_timestamp = t.get<int64_t>();
  }
  if (!data.contains("csv")) return;
  const auto& j = data.at("csv");
  CsvRatingsSpec& s = c.csv;
  s.ratings_file = j.value("ratings_file", s.ratings_file);
  s.items_file = j.value("items_file", s.items_file);
  s.users_file = j.value("users_file", s.users_file);
  s.separator = j.value("separator", s.separator);
  s.list_separator = j.value("list_separator", s.list_separator);
  s.header = j.value("header", s.header);
  const std::pair<const char*, ColumnRef*> columns[] = {
      {"user", &s.user},         {"item", &s.item},       {"rating", &s.rating},
      {"timestamp", &s.timestamp}, {"weight", &s.weight}, {"item_id", &s.item_id},
      {"item_title", &s.item_title}, {"user_file_id", &s.user_file_id}};
  for (const auto& [key, ref] : columns)
    if (j.contains(key)) *ref = column_from(j.at(key), key);
}

}  // namespace tandem
