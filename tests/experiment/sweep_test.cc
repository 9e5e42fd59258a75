// Loss-weight sweeps: --weights parsing (errors name the entry), labels, the
// run directory (run.json, model files) on the tiny MovieLens fixture, and
// reading a run back, including a `compare --output-dir` directory.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/tiny_movielens.h"
#include "tandem/experiment/sweep.h"
#include "tandem/artifact/trained_model.h"
#include "tandem/core/error.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

std::string error_of(const std::string& spec) {
  try {
    parse_weight_pairs(spec);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(SweepWeights, ParsesRankingFirstPairs) {
  const auto w = parse_weight_pairs(kDefaultSweepWeights);
  ASSERT_EQ(w.size(), 7u);
  EXPECT_FLOAT_EQ(w[0].ranking, 0.0f);
  EXPECT_FLOAT_EQ(w[0].retrieval, 1.0f);
  EXPECT_FLOAT_EQ(w[1].ranking, 0.1f);
  EXPECT_FLOAT_EQ(w[5].ranking, 1.0f);
  EXPECT_FLOAT_EQ(w[5].retrieval, 0.1f);
  EXPECT_FLOAT_EQ(w[6].retrieval, 0.0f);
  // Spaces around entries and numbers, exponents.
  const auto s = parse_weight_pairs(" 1 : 0.3 ,2e-1:1");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_FLOAT_EQ(s[0].retrieval, 0.3f);
  EXPECT_FLOAT_EQ(s[1].ranking, 0.2f);
}

// With extra tasks each pair may carry their weights, in task order.
TEST(SweepWeights, ExtraTaskWeightsFollowThePair) {
  const auto w = parse_weight_pairs("1:1:0.5,1:1:2,0:0:1");
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].extra_count, 1);
  EXPECT_FLOAT_EQ(w[0].extra[0], 0.5f);
  EXPECT_EQ(weights_label(w[1]), "1:1:2");
  EXPECT_EQ(sweep_model_file_name(w[1]), "ranking1_retrieval1_extra2.tandem");
  // Without extra weights, labels and file names are as they always were.
  const auto plain = parse_weight_pairs("1:0.3");
  EXPECT_EQ(plain[0].extra_count, 0);
  EXPECT_EQ(weights_label(plain[0]), "1:0.3");
  EXPECT_EQ(sweep_model_file_name(plain[0]), "ranking1_retrieval0.3.tandem");
}

TEST(SweepWeights, ErrorsNameTheBadEntry) {
  auto expect_error = [](const std::string& spec, std::vector<std::string> parts) {
    const std::string e = error_of(spec);
    for (const auto& p : parts) EXPECT_NE(e.find(p), std::string::npos) << spec << " -> " << e;
  };
  expect_error("1:1,x:1", {"--weights entry 2", "'x:1'", "ranking weight 'x' is not a number"});
  expect_error("1:1,0.3:1,1:y", {"entry 3", "retrieval weight 'y' is not a number"});
  expect_error("1-1", {"entry 1", "'1-1'", "expected RANKING:RETRIEVAL"});
  expect_error("1:1:1:1:1:1:1:1:1:1:1", {"entry 1", "expected RANKING:RETRIEVAL[:EXTRA...]"});
  expect_error("0:1,0:0", {"entry 2", "'0:0'", "both weights are 0"});
  expect_error("0:0:0", {"entry 1", "every weight is 0"});
  expect_error("1:1:z", {"entry 1", "extra task weight 'z' is not a number"});
  expect_error("1:-1", {"entry 1", "retrieval weight -1 must be finite and >= 0"});
  expect_error("inf:1", {"entry 1", "ranking weight inf must be finite"});
  expect_error("1:", {"entry 1", "retrieval weight '' is not a number"});
  expect_error("1:1,,0:1", {"entry 2", "''"});
  expect_error("1:1,", {"entry 2", "''"});
  expect_error("1:1,0.5:1,1:1.0", {"entry 3", "weights 1:1 are listed twice"});
  expect_error("", {"--weights is empty"});
  expect_error("1:0x1", {"retrieval weight '0x1' is not a number"});
}

TEST(SweepWeights, LabelsAreShortestRankingFirst) {
  EXPECT_EQ(weights_label({0.1f, 1.0f}), "0.1:1");
  EXPECT_EQ(weights_label({1.0f, 0.3f}), "1:0.3");
  EXPECT_EQ(weights_label({0.0f, 1.0f}), "0:1");
  EXPECT_EQ(weights_label({2.5f, 1e-5f}), "2.5:1e-05");
}

class SweepRun : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tandem_sweep_" + std::to_string(::getpid()));
    testing::write_tiny_movielens(dir_ / "data");
  }
  void TearDown() override { fs::remove_all(dir_); }
  ExperimentConfig config() const { return testing::tiny_config("kerasrs", dir_ / "data"); }
  fs::path dir_;
};

TEST_F(SweepRun, WritesRunJsonAndOneModelPerPair) {
  const auto pairs = parse_weight_pairs("0:1,1:1,1:0");
  int epochs_seen = 0, variants_seen = 0;
  SweepCallbacks cb;
  cb.on_epoch = [&](const std::string&, const EpochStats&) { ++epochs_seen; };
  cb.on_variant = [&](const SweepVariant&) { ++variants_seen; };
  const std::string run = (dir_ / "run").string();
  const SweepRecord rec = run_sweep(config(), pairs, run, cb);
  EXPECT_EQ(epochs_seen, 3 * 2);
  EXPECT_EQ(variants_seen, 3);
  ASSERT_EQ(rec.variants.size(), 3u);
  EXPECT_TRUE(rec.complete);
  EXPECT_FALSE(rec.started_at.empty());
  EXPECT_TRUE(rec.machine.contains("cpu"));
  EXPECT_EQ(rec.data["train_pairs"], 1000);

  const auto front = pareto_front(rec.trade_offs());
  for (size_t i = 0; i < 3; ++i) {
    const auto& v = rec.variants[i];
    EXPECT_EQ(v.label, weights_label(pairs[i]));
    EXPECT_EQ(v.pareto, front[i]);
    EXPECT_EQ(v.history.size(), 2u);
    EXPECT_EQ(v.eval.k, 5);
    EXPECT_TRUE(v.eval.accuracy_at.count(1) && v.eval.accuracy_at.count(5));
    EXPECT_GT(v.train_seconds, 0.0);
    // The saved model is this variant's, metrics included.
    const TrainedModel m = load_model((fs::path(run) / v.model_file).string());
    EXPECT_FLOAT_EQ(m.config.weights.ranking, pairs[i].ranking);
    EXPECT_FLOAT_EQ(m.config.weights.retrieval, pairs[i].retrieval);
    EXPECT_DOUBLE_EQ(m.metrics["rmse"].get<double>(), v.eval.rmse);
  }
  // A weight of 0 skips its task's loss.
  EXPECT_EQ(rec.variants[0].history[0].ranking_loss, 0.0);
  EXPECT_EQ(rec.variants[2].history[0].retrieval_loss, 0.0);

  // Same data, same seed: a variant equals a plain train_and_evaluate.
  ExperimentConfig joint = config();
  joint.weights = pairs[1];
  const auto [model, plain] = train_and_evaluate(joint, prepare_data(joint), "joint");
  EXPECT_DOUBLE_EQ(plain.eval.rmse, rec.variants[1].eval.rmse);
  EXPECT_DOUBLE_EQ(plain.eval.topk_accuracy, rec.variants[1].eval.topk_accuracy);

  // run.json reads back to the same record.
  const SweepRecord back = load_run_dir(run);
  EXPECT_EQ(back.to_json(), rec.to_json());
  std::ifstream in(fs::path(run) / "run.json");
  const auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j["status"], "complete");
  EXPECT_EQ(j["weights"], "ranking:retrieval");
  EXPECT_EQ(j["variants"].size(), 3u);
  EXPECT_EQ(j["variants"][1]["label"], "1:1");
  EXPECT_TRUE(j["variants"][1]["epochs"][0].contains("retrieval_loss"));
  EXPECT_FALSE(j["config"]["model"].contains("ranking_weight"));  // per variant instead
  EXPECT_GE(j["pareto_front"].size(), 1u);

  // A run directory is never overwritten.
  try {
    run_sweep(config(), pairs, run);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("already exists"), std::string::npos) << e.what();
  }
}

// A sweep's front needs RMSE: a ranking loss without one is refused before
// anything is trained or written.
TEST_F(SweepRun, RefusesARankingLossWithoutRmse) {
  ExperimentConfig c = config();
  c.ranking_loss = RankingLossKind::kPairwiseHinge;
  const fs::path run = dir_ / "hinge";
  try {
    run_sweep(c, parse_weight_pairs("1:1"), run.string());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pairwise-hinge ranking loss predicts no rating"),
              std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(fs::exists(run));
}

TEST_F(SweepRun, FindsVariantsByWeights) {
  const SweepRecord rec = run_sweep(config(), parse_weight_pairs("1:1,1:0.5"), (dir_ / "r").string());
  EXPECT_EQ(rec.find("1:0.5"), 1u);
  EXPECT_EQ(rec.find("1.0:1"), 0u);  // the same pair written differently
  try {
    rec.find("2:1");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the run has 1:1, 1:0.5"), std::string::npos) << e.what();
  }
}

TEST_F(SweepRun, ReadsACompareOutputDirectoryFromItsModels) {
  const fs::path out = dir_ / "compare";
  fs::create_directories(out);
  for (const auto& v : tutorial_variants()) {
    ExperimentConfig c = config();
    c.weights = v.weights;
    const auto [model, result] = train_and_evaluate(c, prepare_data(c), v.name);
    save_model((out / (v.name + ".tandem")).string(), model);
  }
  const SweepRecord rec = load_run_dir(out.string());
  ASSERT_EQ(rec.variants.size(), 3u);
  // File-name order: joint, rating, retrieval.
  EXPECT_EQ(rec.variants[0].label, "1:1");
  EXPECT_EQ(rec.variants[1].label, "1:0");
  EXPECT_EQ(rec.variants[2].label, "0:1");
  EXPECT_EQ(rec.variants[1].model_file, "rating.tandem");
  EXPECT_EQ(rec.variants[0].history.size(), 2u);
  EXPECT_TRUE(rec.started_at.empty());
}

TEST_F(SweepRun, BadRunDirectoriesAreNamed) {
  auto error_of_load = [](const fs::path& p) -> std::string {
    try {
      load_run_dir(p.string());
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_NE(error_of_load(dir_ / "missing").find("no such directory"), std::string::npos);
  fs::create_directories(dir_ / "empty");
  EXPECT_NE(error_of_load(dir_ / "empty").find("neither a sweep"), std::string::npos);
  fs::create_directories(dir_ / "bad");
  std::ofstream(dir_ / "bad" / "run.json") << "{\"format\": \"something-else\"}";
  const std::string e = error_of_load(dir_ / "bad");
  EXPECT_NE(e.find("run.json"), std::string::npos) << e;
  EXPECT_NE(e.find("not a sweep record"), std::string::npos) << e;
  std::ofstream(dir_ / "bad" / "run.json") << "{not json";
  EXPECT_NE(error_of_load(dir_ / "bad").find("not valid JSON"), std::string::npos);
}

}  // namespace
}  // namespace tandem
