#include "tandem/config/config_file.h"

#include <filesystem>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "tandem/config/settings.h"
#include "tandem/core/error.h"
#include "tandem/core/regular_file.h"

namespace tandem {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Where a node came from, for messages: "FILE:LINE".
std::string where(const std::string& source, const toml::node& n) {
  std::ostringstream o;
  o << source << ':' << n.source().begin.line;
  return o.str();
}

// A TOML value as JSON, so that the registry checks one representation.
json to_json(const toml::node& n) {
  if (const auto* t = n.as_table()) {
    json o = json::object();
    for (const auto& [k, v] : *t) o[std::string(k.str())] = to_json(v);
    return o;
  }
  if (const auto* a = n.as_array()) {
    json o = json::array();
    for (const auto& v : *a) o.push_back(to_json(v));
    return o;
  }
  if (const auto v = n.value_exact<int64_t>()) return *v;
  if (const auto v = n.value_exact<double>()) return *v;
  if (const auto v = n.value_exact<bool>()) return *v;
  if (const auto v = n.value_exact<std::string>()) return *v;
  return "(a date or time)";
}

std::string resolve_path(const std::string& p, const std::string& base_dir) {
  if (p.empty() || base_dir.empty() || fs::path(p).is_absolute()) return p;
  return (fs::path(base_dir) / p).lexically_normal().string();
}

// The paths a config file may give a setting under: its own, and older
// spellings within its table ([training] reshuffle_each_epoch).
std::vector<std::string> toml_paths(const Setting& s) {
  std::vector<std::string> paths = {s.path()};
  for (const auto& a : s.toml_aliases) paths.push_back(std::string(s.table) + "." + a);
  return paths;
}

// The names one level below `prefix` ("" for the top): keys and sub-tables.
std::set<std::string> known_below(const std::string& prefix) {
  std::set<std::string> known;
  for (const Setting& s : settings())
    for (const std::string& p : toml_paths(s)) {
      if (!prefix.empty() && p.rfind(prefix + ".", 0) != 0) continue;
      const std::string rest = prefix.empty() ? p : p.substr(prefix.size() + 1);
      known.insert(rest.substr(0, rest.find('.')));
    }
  return known;
}

// The setting a path names, or nullptr.
const Setting* setting_at(const std::string& path) {
  for (const Setting& s : settings())
    for (const std::string& p : toml_paths(s))
      if (p == path) return &s;
  return nullptr;
}

// Refuses any key no setting claims, and a table where a value belongs.
void check_known(const toml::table& t, const std::string& prefix, const std::string& source) {
  const std::set<std::string> known = known_below(prefix);
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    if (!known.count(key)) {
      std::string list;
      for (const auto& s : known) list += (list.empty() ? "" : ", ") + s;
      TANDEM_THROW(where(source, v) << ": unknown key '" << path << "'"
                                    << (list.empty() ? "" : " (known here: " + list + ")"));
    }
    if (setting_at(path)) continue;
    if (!v.is_table()) TANDEM_THROW(where(source, v) << ": '" << path << "' must be a table ([" << path << "])");
    check_known(*v.as_table(), path, source);
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
  check_known(root, "", source);
  // The preset first: the base every other key overrides.
  std::string preset = "kerasrs";
  const Setting& preset_setting = *find_setting("preset");
  if (const toml::node* n = root.get("preset")) {
    try {
      preset = check_setting_value(preset_setting, to_json(*n)).get<std::string>();
    } catch (const Error& e) {
      TANDEM_THROW(where(source, *n) << ": 'preset' " << e.what());
    }
  }
  if (!preset_override.empty()) preset = preset_override;
  ExperimentConfig c = preset_config(preset);

  for (const Setting& s : settings()) {
    if (&s == &preset_setting) continue;
    const std::vector<std::string> paths = toml_paths(s);
    const toml::node* n = nullptr;
    for (const std::string& p : paths) {
      const toml::node* m = root.at_path(p).node();
      if (!m) continue;
      // The setting's own key, or one of its older spellings (not both).
      if (n)
        TANDEM_THROW(where(source, *m) << ": [" << s.table << "] sets both " << s.key
                                       << " and its older spelling " << p.substr(p.rfind('.') + 1)
                                       << "; keep " << s.key);
      n = m;
    }
    for (const std::string& p : paths) {
      if (root.at_path(p).node() != n || !n) continue;
      json v = to_json(*n);
      if (p != paths.front() && s.from_alias) v = s.from_alias(v);
      try {
        v = check_setting_value(s, v);
        if (s.kind == SettingKind::kPath) v = resolve_path(v.get<std::string>(), base_dir);
        s.set(c, v);
      } catch (const Error& e) {
        TANDEM_THROW(where(source, *n) << ": '" << p << "' " << e.what());
      }
      break;
    }
  }
  try {
    c.validate();
  } catch (const Error& e) {
    TANDEM_THROW(source << ": " << e.what());
  }
  return c;
}

ExperimentConfig load_config_file(const std::string& path, const std::string& preset_override) {
  const std::string text = read_regular_file(path, "config file");
  const std::string base = fs::absolute(path).parent_path().string();
  return parse_config_toml(text, path, preset_override, base);
}

std::string config_to_toml(const ExperimentConfig& c) {
  std::ostringstream o;
  std::string_view table;  // the table last written ("-" after a table array)
  bool first = true;
  for (const Setting& s : settings()) {
    if (s.shown && !s.shown(c)) continue;
    if (s.kind == SettingKind::kTableArray) {
      o << "\n" << s.to_toml(c);
      table = "-";
      continue;
    }
    const json v = s.get(c);
    if (v.is_null()) continue;
    if (table != s.table) {
      table = s.table;
      o << (first ? "" : "\n") << "[" << table << "]\n";
    }
    first = false;
    o << s.key << " = " << setting_toml_value(s, v) << "\n";
  }
  return o.str();
}

}  // namespace tandem
