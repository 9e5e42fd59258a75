// The command-line flags of the settings registry (tandem/config/settings.h):
// each setting with a flag is registered from its record (name, help with
// the default, choices), and the flags given are applied to a config, each
// value checked as the registry says (errors name the flag).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tandem/config/settings.h"

namespace tandem::cli {

class SettingFlags {
 public:
  // Registers the flag of every setting that has one (and is not one a
  // command registers itself) and that `wanted` accepts (default: all).
  // `default_note`, when given, replaces the defaults the help states.
  void add_to(CLI::App& app, const std::function<bool(const Setting&)>& wanted = {},
              const std::string& default_note = "");
  // The flags that were given, applied to `c` in the registry's order. A
  // value the registry refuses throws ArgumentError (argument_error.h).
  void apply(ExperimentConfig& c) const;

 private:
  struct Flag {
    const Setting* setting = nullptr;
    std::string text;
    std::vector<std::string> values;
    bool on = false;
    CLI::Option* option = nullptr;
  };
  std::vector<std::unique_ptr<Flag>> flags_;
};

}  // namespace tandem::cli
