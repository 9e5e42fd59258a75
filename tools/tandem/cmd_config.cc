// tandem config --print: the effective experiment configuration (preset, then
// --config file, then flags) as TOML, ready to save and edit.
#include <iostream>

#include "cmd_options.h"
#include "commands.h"
#include "tandem/config/config_file.h"
#include "tandem/core/error.h"

namespace tandem::cli {

Action add_config(CLI::App& app) {
  auto opts = std::make_shared<ExperimentOptions>();
  auto print = std::make_shared<bool>(false);
  opts->add_to(app, /*with_weights=*/true);
  app.add_flag("--print", *print, "Print the effective configuration as TOML");
  return [opts, print] {
    TANDEM_CHECK(*print, "config: nothing to do; use --print (with --config FILE and/or flags)");
    std::cout << config_to_toml(opts->resolve());
    return 0;
  };
}

}  // namespace tandem::cli
