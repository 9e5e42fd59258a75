// The tandem command-line tool: one function per subcommand registers its
// options on the CLI11 app and returns the action to run when selected.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace tandem::cli {

using Action = std::function<int()>;

Action add_compare(CLI::App& app);
Action add_train(CLI::App& app);
Action add_evaluate(CLI::App& app);
Action add_recommend(CLI::App& app);
Action add_bench(CLI::App& app);
Action add_synth(CLI::App& app);
Action add_serve(CLI::App& app);
Action add_index_eval(CLI::App& app);
Action add_index(CLI::App& app);  // tandem index build
Action add_config(CLI::App& app);
Action add_data(CLI::App& app);
Action add_data_prepare(CLI::App& app);  // tandem data prepare
Action add_sweep(CLI::App& app);
Action add_report(CLI::App& app);
Action add_export(CLI::App& app);  // tandem export

}  // namespace tandem::cli
