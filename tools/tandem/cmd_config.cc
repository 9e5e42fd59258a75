// tandem config --print: the effective experiment configuration (preset, then
// --config file, then flags) as TOML, ready to save and edit. --docs prints
// the table of settings that docs/config.md holds; --update-docs FILE
// rewrites that table in FILE.
#include <fstream>
#include <iostream>
#include <sstream>

#include "argument_error.h"
#include "cmd_options.h"
#include "commands.h"
#include "tandem/config/config_file.h"
#include "tandem/config/settings.h"
#include "tandem/core/error.h"

namespace tandem::cli {

Action add_config(CLI::App& app) {
  auto opts = std::make_shared<ExperimentOptions>();
  auto print = std::make_shared<bool>(false);
  auto docs = std::make_shared<bool>(false);
  auto update = std::make_shared<std::string>();
  opts->add_to(app, /*with_weights=*/true);
  app.add_flag("--print", *print, "Print the effective configuration as TOML");
  app.add_flag("--docs", *docs, "Print the table of every setting (Markdown, as in docs/config.md)");
  app.add_option("--update-docs", *update,
                 "Rewrite the generated table of settings in this Markdown file (docs/config.md)")
      ->check(CLI::ExistingFile);
  return [opts, print, docs, update] {
    TANDEM_ARGUMENT_CHECK(*print || *docs || !update->empty(),
                          "config: nothing to do; use --print (with --config FILE and/or flags), --docs or "
                          "--update-docs FILE");
    if (*docs) std::cout << settings_docs_markdown();
    if (!update->empty()) {
      std::ifstream in(*update, std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      std::string updated;
      try {
        updated = with_settings_docs(text.str());
      } catch (const Error& e) {
        TANDEM_THROW(*update << ": " << e.what());
      }
      std::ofstream out(*update, std::ios::binary | std::ios::trunc);
      out << updated;
      TANDEM_CHECK(out.good(), "cannot write " << *update);
    }
    if (*print) std::cout << config_to_toml(opts->resolve());
    return 0;
  };
}

}  // namespace tandem::cli
