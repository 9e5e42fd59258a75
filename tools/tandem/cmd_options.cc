#include "cmd_options.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "tandem/config/config_file.h"
#include "tandem/config/data_location.h"
#include "tandem/core/error.h"
#include "tandem/data/data_dir.h"

namespace tandem::cli {

void ExperimentOptions::add_to(CLI::App& app, bool with_weights) {
  app.add_option("--config,-c", config_file,
                 "Experiment described in a TOML file (see examples/); flags given as well "
                 "override its values")
      ->check(CLI::ExistingFile);
  app.add_option("--preset", preset, find_setting("preset")->help)
      ->check(CLI::IsMember(preset_names()))
      ->capture_default_str()
      ->each([this](const std::string&) { preset_given = true; });
  app.add_option("--data", data, setting_help(*find_setting("data.dir")));
  app.add_option("--train", train_file, setting_help(*find_setting("data.train_file")));
  app.add_option("--test", test_file, setting_help(*find_setting("data.test_file")));
  settings.add_to(app, [with_weights](const Setting& s) {
    return with_weights || std::string(s.table) != "tasks" || std::string(s.key).find("_weight") == std::string::npos;
  });
  app.add_flag("--json", json, "Machine-readable output: one JSON object per line");
  app.add_flag("--quiet,-q", quiet, "No progress lines on stderr");
}

ExperimentConfig ExperimentOptions::resolve(bool need_data) const {
  // Precedence: preset < config file < flags (a --preset flag replaces the
  // file's preset as the base the file's other keys apply to).
  ExperimentConfig c = config_file.empty() ? preset_config(preset)
                                           : load_config_file(config_file, preset_given ? preset : "");
  settings.apply(c);
  // A data directory from the flag, else from the config file, else the
  // default search ($TANDEM_DATA, ../shared/data/ml-100k).
  locate_data(c, data, train_file, test_file, need_data);
  c.validate();
  return c;
}

ExperimentConfig ExperimentOptions::apply_given(ExperimentConfig c) const {
  if (preset_given) c.preset = preset;
  settings.apply(c);
  namespace fs = std::filesystem;
  if (!train_file.empty()) c.train_file = fs::absolute(train_file).string();
  if (!test_file.empty()) c.test_file = fs::absolute(test_file).string();
  if (!data.empty()) c.data_dir = fs::absolute(resolve_data_dir(data)).lexically_normal().string();
  return c;
}

std::string rmse_text(double rmse, const ExperimentConfig& config) {
  if (std::isnan(rmse))
    return "n/a (the " + to_string(config.ranking_loss) + " ranking loss predicts no rating)";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", rmse);
  return buf;
}

EpochCallback epoch_printer(const ExperimentConfig& config, bool quiet) {
  if (quiet) return {};
  const int epochs = config.epochs;
  return [epochs](const std::string& model, const EpochStats& e) {
    std::fprintf(stderr,
                 "[%s] epoch %d/%d: %lld steps, %.2f s, ranking loss %.4f, retrieval loss %.2f, "
                 "total %.4f, lr %.4g\n",
                 model.c_str(), e.epoch, epochs, static_cast<long long>(e.steps), e.seconds,
                 e.ranking_loss, e.retrieval_loss, e.total_loss, e.learning_rate);
    if (e.learned_task_weights.size() == 2)
      std::fprintf(stderr, "[%s] learned task weights: retrieval %.4g, ranking %.4g\n",
                   model.c_str(), e.learned_task_weights[0], e.learned_task_weights[1]);
  };
}

}  // namespace tandem::cli
