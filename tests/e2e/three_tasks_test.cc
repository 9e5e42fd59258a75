// Three tasks on real MovieLens-100K: examples/three-tasks.toml (the kerasrs
// setup plus a binary "liked" head on rating >= 4 stars, weight 1) against
// the same setup with two tasks, training seed 1, 2 threads (deterministic).
// Over training seeds (--init-seed) 1..5 on the kerasrs split (seed 42) this
// build measured (docs/results.md has seeds 1..5 of split and training,
// with the same conclusions):
//   two tasks:   top-100 0.2381 +- 0.0036, RMSE 0.2500 +- 0.0003
//   three tasks: top-100 0.2381 +- 0.0037, RMSE 0.2500 +- 0.0003,
//                liked AUC 0.7389 +- 0.0015, log loss 0.596, accuracy 0.683
// The bands sit around those with margin, and clear of a broken task: a
// random ranking scores about 100/1682 = 0.06 at top-100, a constant
// prediction of the rating an RMSE near 0.28 and an AUC of 0.5.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "e2e_util.h"
#include "tandem/config/config_file.h"
#include "tandem/experiment/experiment.h"

namespace tandem::testing {
namespace {

namespace fs = std::filesystem;

// The last line of --json output: the result object.
nlohmann::json last_json_line(const std::string& out) {
  std::string s = out;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return nlohmann::json::parse(s.substr(s.rfind('\n') == std::string::npos ? 0 : s.rfind('\n') + 1));
}

fs::path source_root() {
  const char* src = std::getenv("TANDEM_SOURCE_DIR");
  return src ? fs::path(src) : fs::current_path();
}

TEST(ThreeTasks, ExampleReportsEveryTaskAndKeepsTheOtherTwoInTheirBands) {
  TANDEM_REQUIRE_MOVIELENS();
  ExperimentConfig c = load_config_file((source_root() / "examples" / "three-tasks.toml").string());
  c.data_dir = movielens_dir();
  c.threads = 2;
  c.init_seed = 1;
  ASSERT_EQ(c.extra_tasks.size(), 1u);
  ASSERT_EQ(c.extra_tasks[0].name, "liked");
  const PreparedData data = prepare_data(c);
  const RunResult three = train_and_evaluate(c, data, "three").second;
  ExperimentConfig two_cfg = c;
  two_cfg.extra_tasks.clear();
  const RunResult two = train_and_evaluate(two_cfg, data, "two").second;

  ASSERT_EQ(three.eval.tasks.size(), 1u);
  const auto& [name, liked] = three.eval.tasks[0];
  EXPECT_EQ(name, "liked");
  EXPECT_GE(liked.auc, 0.72);
  EXPECT_LE(liked.log_loss, 0.63);
  EXPECT_GE(liked.accuracy, 0.65);
  EXPECT_NEAR(liked.positive_rate, 0.55, 0.02);  // MovieLens-100K: 55% of ratings are >= 4
  // The other two tasks, within the two-task model's seed spread.
  const double top100 = three.eval.accuracy_at.at(100);
  EXPECT_GE(top100, 0.22);
  EXPECT_LE(three.eval.rmse, 0.26);
  EXPECT_NEAR(top100, two.eval.accuracy_at.at(100), 0.01);
  EXPECT_NEAR(three.eval.rmse, two.eval.rmse, 0.006);
  // Every task learned.
  ASSERT_EQ(three.history.back().extra_losses.size(), 1u);
  EXPECT_LT(three.history.back().extra_losses[0], three.history.front().extra_losses[0]);
  EXPECT_LT(three.history.back().ranking_loss, three.history.front().ranking_loss);
  EXPECT_TRUE(two.eval.tasks.empty());
  // The JSON output carries the liked task's metrics.
  const nlohmann::json j = three.to_json();
  ASSERT_TRUE(j.contains("tasks"));
  for (const char* key : {"auc", "log_loss", "accuracy", "positive_rate"})
    EXPECT_TRUE(j["tasks"]["liked"].contains(key)) << key;
}

// The CLI: --task adds a task; the saved model keeps it, and evaluating the
// file reproduces the extra task's metrics.
TEST(ThreeTasks, CliTaskFlagAndModelFileRoundTrip) {
  TANDEM_REQUIRE_MOVIELENS();
  const fs::path dir = fs::temp_directory_path() / ("tandem_three_tasks_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string model = (dir / "m.tandem").string();
  const CommandResult train =
      run_tandem("train --preset kerasrs --data " + movielens_dir() +
                 " --task liked:binary:1 --epochs 1 --threads 2 --quiet --json --output " + model);
  ASSERT_EQ(train.exit_code, 0) << train.err;
  const nlohmann::json t = last_json_line(train.out);
  ASSERT_TRUE(t.contains("tasks")) << train.out;
  const CommandResult eval = run_tandem("evaluate --model " + model + " --data " + movielens_dir() + " --json");
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  const nlohmann::json e = last_json_line(eval.out);
  ASSERT_TRUE(e.contains("tasks")) << eval.out;
  EXPECT_EQ(e["tasks"]["liked"]["auc"], t["tasks"]["liked"]["auc"]);
  EXPECT_EQ(e["tasks"]["liked"]["log_loss"], t["tasks"]["liked"]["log_loss"]);
  // A malformed --task is refused with its reason.
  const CommandResult bad = run_tandem("train --preset kerasrs --data " + movielens_dir() +
                                       " --task rating:binary:1 --epochs 1 --quiet");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("built-in"), std::string::npos) << bad.err;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tandem::testing
