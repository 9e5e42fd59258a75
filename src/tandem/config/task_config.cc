#include "tandem/config/task_config.h"

#include <charconv>
#include <cmath>
#include <set>
#include <sstream>

#include "tandem/core/error.h"

namespace tandem {

namespace {

// Names of the built-in tasks (and the rating task's other name).
const std::set<std::string> kReserved = {"retrieval", "rating", "ranking"};

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char ch : s) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                    ch == '_' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

float parse_float(const std::string& s, const std::string& what, const std::string& spec) {
  size_t used = 0;
  float v = 0.0f;
  try {
    v = std::stof(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  TANDEM_CHECK(!s.empty() && used == s.size(),
               "--task '" << spec << "': " << what << " '" << s << "' is not a number");
  return v;
}

}  // namespace

void validate_extra_tasks(const std::vector<ExtraTaskSpec>& tasks) {
  TANDEM_CHECK(static_cast<int>(tasks.size()) <= kMaxExtraTasks,
               "too many extra tasks: " << tasks.size() << " (at most " << kMaxExtraTasks << ")");
  std::set<std::string> seen;
  for (const ExtraTaskSpec& t : tasks) {
    TANDEM_CHECK(valid_name(t.name), "extra task name '" << t.name
                                                         << "' must be 1-64 letters, digits, '_' or '-'");
    TANDEM_CHECK(!kReserved.count(t.name),
                 "extra task name '" << t.name << "' is a built-in task's (retrieval, rating, ranking)");
    TANDEM_CHECK(seen.insert(t.name).second, "extra task '" << t.name << "' is given twice");
    TANDEM_CHECK(std::isfinite(t.weight) && t.weight >= 0.0f,
                 "extra task '" << t.name << "': weight must be finite and >= 0, got " << t.weight);
    TANDEM_CHECK(std::isfinite(t.positive_threshold),
                 "extra task '" << t.name << "': positive_threshold must be finite, got "
                                << t.positive_threshold);
  }
}

ExtraTaskSpec parse_extra_task_spec(const std::string& spec) {
  std::vector<std::string> parts;
  std::stringstream in(spec);
  std::string part;
  while (std::getline(in, part, ':')) parts.push_back(part);
  if (!spec.empty() && spec.back() == ':') parts.push_back("");
  TANDEM_CHECK(parts.size() == 3 || parts.size() == 4,
               "--task '" << spec << "' must be NAME:binary:WEIGHT[:THRESHOLD], e.g. liked:binary:1");
  ExtraTaskSpec t;
  t.name = parts[0];
  t.kind = parse_extra_task_kind(parts[1]);
  t.weight = parse_float(parts[2], "weight", spec);
  if (parts.size() == 4) t.positive_threshold = parse_float(parts[3], "threshold", spec);
  t.label_threshold = t.positive_threshold;
  validate_extra_tasks({t});
  return t;
}

std::vector<ExtraTaskSpec> extra_tasks_from_toml(const toml::node& node, const std::string& source) {
  const auto at = [&](const toml::node& n) {
    std::ostringstream o;
    o << source << ':' << n.source().begin.line;
    return o.str();
  };
  const toml::array* arr = node.as_array();
  TANDEM_CHECK(arr != nullptr && arr->is_array_of_tables(),
               at(node) << ": 'tasks.extra' must be an array of tables ([[tasks.extra]])");
  std::vector<ExtraTaskSpec> out;
  for (const toml::node& item : *arr) {
    const toml::table& t = *item.as_table();
    ExtraTaskSpec s;
    for (const auto& [k, v] : t) {
      const std::string key(k.str());
      const std::string name = "tasks.extra." + key;
      if (key == "name" || key == "kind") {
        const auto str = v.value<std::string>();
        TANDEM_CHECK(str.has_value(), at(v) << ": '" << name << "' must be a string");
        if (key == "name") {
          s.name = *str;
        } else {
          try {
            s.kind = parse_extra_task_kind(*str);
          } catch (const Error& e) {
            TANDEM_THROW(at(v) << ": '" << name << "': " << e.what());
          }
        }
      } else if (key == "weight" || key == "positive_threshold") {
        const auto num = v.value<double>();
        TANDEM_CHECK(num.has_value(), at(v) << ": '" << name << "' must be a number");
        (key == "weight" ? s.weight : s.positive_threshold) = static_cast<float>(*num);
      } else {
        TANDEM_THROW(at(v) << ": unknown key '" << name
                           << "' (known here: name, kind, weight, positive_threshold)");
      }
    }
    TANDEM_CHECK(!s.name.empty(), at(item) << ": [[tasks.extra]] needs a name");
    s.label_threshold = s.positive_threshold;
    try {
      validate_extra_tasks({s});
    } catch (const Error& e) {
      TANDEM_THROW(at(item) << ": " << e.what());
    }
    out.push_back(s);
  }
  try {
    validate_extra_tasks(out);
  } catch (const Error& e) {
    TANDEM_THROW(at(node) << ": " << e.what());
  }
  return out;
}

std::string extra_tasks_to_toml(const std::vector<ExtraTaskSpec>& tasks) {
  // The shortest text that reads back as the same float.
  const auto num = [](float v) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    std::string s(buf, r.ptr);
    if (s.find_first_of(".en") == std::string::npos) s += ".0";
    return s;
  };
  std::ostringstream o;
  for (const ExtraTaskSpec& t : tasks) {
    o << "\n[[tasks.extra]]\nname = \"" << t.name << "\"\nkind = \"" << to_string(t.kind)
      << "\"\nweight = " << num(t.weight) << "\npositive_threshold = " << num(t.positive_threshold)
      << "\n";
  }
  return o.str();
}

nlohmann::json extra_tasks_to_json(const std::vector<ExtraTaskSpec>& tasks) {
  nlohmann::json a = nlohmann::json::array();
  for (const ExtraTaskSpec& t : tasks) {
    a.push_back({{"name", t.name},
                 {"kind", to_string(t.kind)},
                 {"weight", t.weight},
                 {"positive_threshold", t.positive_threshold}});
  }
  return a;
}

std::vector<ExtraTaskSpec> extra_tasks_from_json(const nlohmann::json& j) {
  TANDEM_CHECK(j.is_array(), "extra_tasks must be an array, got " << j.dump());
  std::vector<ExtraTaskSpec> out;
  try {
    for (const auto& e : j) {
      ExtraTaskSpec t;
      t.name = e.at("name").get<std::string>();
      t.kind = parse_extra_task_kind(e.at("kind").get<std::string>());
      t.weight = e.at("weight").get<float>();
      t.positive_threshold = e.value("positive_threshold", 4.0f);
      t.label_threshold = t.positive_threshold;
      out.push_back(t);
    }
  } catch (const nlohmann::json::exception& ex) {
    TANDEM_THROW("invalid extra_tasks: " << ex.what());
  }
  validate_extra_tasks(out);
  return out;
}

}  // namespace tandem
