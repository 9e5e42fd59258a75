#include "tandem/config/keyword_settings.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tandem/config/settings.h"
#include "tandem/core/edit_distance.h"
#include "tandem/core/error.h"

namespace tandem {

namespace {

using json = nlohmann::json;

// The setting a bare key names: the only one with that key, or among
// several the one whose flag is --<key> (underscores as dashes); nullptr
// when none or still ambiguous (`all` receives every candidate).
const Setting* by_key(const std::string& key, std::vector<const Setting*>& all) {
  all.clear();
  for (const Setting& s : settings()) {
    if (s.key == key && s.path() != "preset") all.push_back(&s);
  }
  if (all.size() == 1) return all.front();
  std::string flag = "--" + key;
  std::replace(flag.begin(), flag.end(), '_', '-');
  for (const Setting* s : all) {
    if (s->flag != nullptr && flag == s->flag) return s;
  }
  return nullptr;
}

bool is_table(const std::string& prefix) {
  for (const Setting& s : settings()) {
    const std::string t = s.table;
    if (!t.empty() && (t == prefix || t.rfind(prefix + ".", 0) == 0)) return true;
  }
  return false;
}


std::string suggestion(const std::string& name) {
  std::string best;
  size_t best_d = std::max<size_t>(3, name.size() / 3);
  for (const std::string& k : setting_keywords()) {
    const size_t d = edit_distance(name, k);
    if (d < best_d) best_d = d, best = k;
  }
  return best.empty() ? "" : " (did you mean " + best + "?)";
}

// Collects (setting, keyword as given, value) for every keyword, tables
// flattened.
void collect(const json& object, const std::string& prefix,
             std::map<const Setting*, std::pair<std::string, json>>& out) {
  for (const auto& [name, value] : object.items()) {
    const std::string path = prefix.empty() ? name : prefix + "." + name;
    const Setting* s = nullptr;
    if (prefix.empty() && name.find('.') == std::string::npos) {
      std::vector<const Setting*> all;
      s = by_key(name, all);
      if (s == nullptr && all.size() > 1 && !value.is_object()) {
        std::string paths;
        for (const Setting* a : all) paths += (paths.empty() ? "" : ", ") + a->path();
        TANDEM_THROW("keyword " << name << " is ambiguous: it is the key of " << paths
                                << "; give the one you mean by its path, e.g. **{\"" << all.front()->path()
                                << "\": ...}");
      }
    } else {
      s = find_setting(path);
      if (s != nullptr && s->path() == "preset") s = nullptr;
    }
    if (s == nullptr && value.is_object() && is_table(path)) {
      collect(value, path, out);
      continue;
    }
    if (s == nullptr) {
      TANDEM_THROW("unknown setting " << path << suggestion(path)
                                      << "; tandem.setting_keywords() lists them all (docs/config.md explains each)");
    }
    if (out.count(s) != 0) {
      TANDEM_THROW("setting " << s->path() << " is given twice: as " << out[s].first << " and as " << path);
    }
    out[s] = {path, value};
  }
}

}  // namespace

void apply_keyword_settings(ExperimentConfig& c, const json& keywords) {
  TANDEM_CHECK(keywords.is_object(), "settings must be given as keywords (a JSON object)");
  std::map<const Setting*, std::pair<std::string, json>> given;
  collect(keywords, "", given);
  for (const Setting& s : settings()) {
    const auto it = given.find(&s);
    if (it == given.end()) continue;
    const auto& [name, value] = it->second;
    json v;
    try {
      v = check_setting_value(s, value);
    } catch (const Error& e) {
      const std::string as = name == s.path() ? "" : " (" + s.path() + ")";
      const std::string why = e.what();
      // The registry's reason names the value it got when it is a number.
      const std::string got = why.find("got ") == std::string::npos ? ", got " + value.dump() : "";
      TANDEM_THROW(name << as << ": " << why << got);
    }
    if (s.kind == SettingKind::kPath && v.is_string() && !v.get<std::string>().empty())
      v = std::filesystem::absolute(v.get<std::string>()).lexically_normal().string();
    s.set(c, v);
  }
}

std::vector<std::string> setting_keywords() {
  std::vector<std::string> out;
  std::vector<const Setting*> all;
  for (const Setting& s : settings()) {
    if (s.path() == "preset") continue;
    if (by_key(s.key, all) == &s) out.push_back(s.key);
    if (s.path() != s.key) out.push_back(s.path());
  }
  return out;
}

}  // namespace tandem
