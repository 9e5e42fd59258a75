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
    if (&t != &tasks.front()) o << "\n";  // a blank line between blocks
    o << "[[tasks.extra]]\nname = \"" << t.name << "\"\nkind = \"" << to_string(t.kind)
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
  // The same reader for [[tasks.extra]] in a config file (the registry hands
  // it the array as JSON) and for a model file: strict about keys and types.
  TANDEM_CHECK(j.is_array(), "must be an array of tables ([[tasks.extra]]), got " << j.dump());
  std::vector<ExtraTaskSpec> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const nlohmann::json& e = j[i];
    const std::string at = "[[tasks.extra]] #" + std::to_string(i + 1);
    TANDEM_CHECK(e.is_object(), at << " must be a table, got " << e.dump());
    ExtraTaskSpec t;
    bool named = false;
    for (const auto& [key, v] : e.items()) {
      if (key == "name" || key == "kind") {
        TANDEM_CHECK(v.is_string(), at << ": '" << key << "' must be a string, got " << v.dump());
        if (key == "name") {
          t.name = v.get<std::string>();
          named = true;
        } else {
          try {
            t.kind = parse_extra_task_kind(v.get<std::string>());
          } catch (const Error& ex) {
            TANDEM_THROW(at << ": " << ex.what());
          }
        }
      } else if (key == "weight" || key == "positive_threshold") {
        TANDEM_CHECK(v.is_number(), at << ": '" << key << "' must be a number, got " << v.dump());
        (key == "weight" ? t.weight : t.positive_threshold) = v.get<float>();
      } else {
        TANDEM_THROW(at << ": unknown key '" << key
                        << "' (known: name, kind, weight, positive_threshold)");
      }
    }
    TANDEM_CHECK(named, at << " needs a name");
    t.label_threshold = t.positive_threshold;
    out.push_back(t);
  }
  validate_extra_tasks(out);
  return out;
}

std::vector<ExtraTaskSpec> parse_extra_task_specs(const std::vector<std::string>& specs) {
  std::vector<ExtraTaskSpec> out;
  for (const std::string& s : specs) out.push_back(parse_extra_task_spec(s));
  validate_extra_tasks(out);
  return out;
}

}  // namespace tandem
