// The registry of experiment settings: each setting is declared once, in
// settings.cc, with its TOML table and key (which are also its model-file
// JSON path), its command-line flag, help text, range or choices, the older
// model-file keys it is still read under, and how it reads and writes
// ExperimentConfig. The TOML reader and writer (config_file.h), the config's
// JSON (ExperimentConfig::to_json/from_json), the command-line flags
// (tools/tandem/setting_flags.h), the resume check (resume_config.h) and the
// generated table of docs/config.md all loop over it.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/config/experiment_config.h"

namespace tandem {

enum class SettingKind {
  kInt,         // integer in lo..hi
  kUInt,        // integer in 0..2^64-1 (seeds)
  kFloat,       // finite number a float holds
  kDouble,      // finite number
  kBool,        // true or false; a flag sets flag_value
  kString,      // any string
  kPath,        // a file or directory: relative to a config file's directory
  kChoice,      // one of `choices`
  kIntList,     // integers, each in lo..hi (a flag: comma separated)
  kStringList,  // strings, each one of `choices` when there are any
  kColumn,      // a column: header name (string) or 0-based index (integer)
  kByteSize,    // bytes; "4G", "512M" or a count in TOML and on the command line
  kTableArray,  // a list of tables ([[table.key]]): the callbacks below read and write it
};

struct Setting {
  using json = nlohmann::json;

  const char* table;  // TOML table: "" (top level), "training", "data.columns"
  const char* key;
  const char* flag;  // "--batch-size"; nullptr: none
  SettingKind kind;
  const char* help;
  // The value as JSON (null: an optional setting unset), and back; set()
  // receives a value that check_setting_value() accepted.
  json (*get)(const ExperimentConfig&);
  void (*set)(ExperimentConfig&, const json&);
  int64_t lo = std::numeric_limits<int64_t>::min();
  int64_t hi = std::numeric_limits<int64_t>::max();
  std::vector<std::string> choices = {};
  bool optional = false;  // may be unset (absent in TOML, null in JSON)
  // Older model-file JSON paths ("train.distinct_rows") read when the
  // setting's own path is absent, and the conversion of such a value
  // (nullptr: the same meaning).
  std::vector<std::string> aliases = {};
  // Older keys of its own table that config files may still use.
  std::vector<std::string> toml_aliases = {};
  json (*from_alias)(const json&) = nullptr;
  // Written by config_to_toml only when this holds (nullptr: always; unset
  // optional settings never).
  bool (*shown)(const ExperimentConfig&) = nullptr;
  bool in_model_file = true;    // part of the config JSON
  bool fixed_on_resume = true;  // a resumed run must keep it
  bool flag_value = true;       // kBool: what the flag sets
  // Replaces the default the help states (computed from the presets).
  const char* default_note = nullptr;
  // The flag is registered by the commands themselves (--preset, --data,
  // --train, --test), not by the setting flags; it is still named in
  // messages and docs.
  bool custom_flag = false;
  // kTableArray: the repeatable flag's values applied to the config, and
  // the TOML text written for the value ("[[table.key]]" blocks).
  void (*from_flag_values)(ExperimentConfig&, const std::vector<std::string>&) = nullptr;
  std::string (*to_toml)(const ExperimentConfig&) = nullptr;
  const char* toml_type = nullptr;  // docs: the type column, when the kind's is not apt
  const char* details = nullptr;    // docs: more than the help says (Markdown)

  std::string path() const;  // "training.batch_size", or "preset" at the top level
  // How messages name it: "--batch-size ([training] batch_size)".
  std::string display_name() const;
};

// Every setting, in the order config files are written.
const std::vector<Setting>& settings();
// The setting at this path, or nullptr.
const Setting* find_setting(std::string_view path);

// `v` checked against the setting's kind, range and choices (a kByteSize
// accepts text such as "4G" as well as a count; a kFloat a JSON integer);
// returns it as set() takes it. Throws tandem::Error with the reason alone
// ("must be in 1..64, got 0"): callers add where the value came from.
nlohmann::json check_setting_value(const Setting& s, const nlohmann::json& v);

// A command-line text as the setting's value (lists: one entry per text),
// checked as above; errors name the flag.
nlohmann::json setting_value_from_text(const Setting& s, const std::vector<std::string>& texts);

// The default the help shows: "(default 32)", "(kerasrs 1000, tfrs 8192)".
std::string setting_default_note(const Setting& s);
// The setting's help with its default.
std::string setting_help(const Setting& s);
// The value as TOML writes it ("[256, 128]", "\"adam\"", "0.1").
std::string setting_toml_value(const Setting& s, const nlohmann::json& v);

// The Markdown table of every setting (docs/config.md's generated section,
// between kSettingsDocsBegin and kSettingsDocsEnd).
std::string settings_docs_markdown();
inline constexpr std::string_view kSettingsDocsBegin = "<!-- settings:begin (generated by `tandem config --update-docs docs/config.md`) -->";
inline constexpr std::string_view kSettingsDocsEnd = "<!-- settings:end -->";
// `doc` with the text between the markers replaced by the generated table;
// throws when the markers are missing.
std::string with_settings_docs(const std::string& doc);

}  // namespace tandem
