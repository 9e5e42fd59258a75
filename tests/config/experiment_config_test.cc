// ExperimentConfig::from_json on hostile values: the config comes from model
// files, so every number is read strictly and refused with a tandem::Error
// naming the field (found by fuzz/experiment_config_fuzzer.cc; reproducers in
// fuzz/regressions/experiment_config/).
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "tandem/config/experiment_config.h"
#include "tandem/core/error.h"

namespace tandem {
namespace {

using json = nlohmann::json;

// The message of the tandem::Error that from_json throws for `j`; fails the
// test on success or on any other exception.
std::string refusal(const json& j) {
  try {
    ExperimentConfig::from_json(j);
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected tandem::Error, got: " << e.what();
    return "";
  }
  ADD_FAILURE() << "accepted: " << j.dump();
  return "";
}

json kerasrs() { return preset_config("kerasrs").to_json(); }

TEST(ExperimentConfigJson, FloatBeyondTheIntegerRangeIsAnErrorNotUndefinedBehaviour) {
  // The fuzzer's reproducer: 2^64 does not fit uint64, so the JSON parser
  // stores it as a float; converting that to the seed was undefined behaviour.
  json j = kerasrs();
  j["split"]["seed"] = json::parse("18446744073709551616");
  ASSERT_TRUE(j["split"]["seed"].is_number_float());
  EXPECT_EQ(refusal(j), "invalid experiment configuration: split.seed must be an integer");
  j = kerasrs();
  j["training"]["epochs"] = 1e30;
  EXPECT_NE(refusal(j).find("training.epochs must be an integer"), std::string::npos);
}

TEST(ExperimentConfigJson, WholeFloatsAreNotIntegers) {
  json j = kerasrs();
  j["evaluation"]["k"] = 10.0;
  EXPECT_NE(refusal(j).find("evaluation.k must be an integer"), std::string::npos);
  j = kerasrs();
  j["model"]["layers"] = {256, 128.5};
  EXPECT_NE(refusal(j).find("model.layers must be an array of integers"), std::string::npos);
}

TEST(ExperimentConfigJson, IntegersThatDoNotFitTheFieldAreRefusedNotWrapped) {
  json j = kerasrs();
  j["training"]["threads"] = 4294967297LL;  // used to wrap to 1 thread
  EXPECT_EQ(refusal(j), "invalid experiment configuration: training.threads must be in 0..1024, "
                        "got 4294967297");
  j = kerasrs();
  j["split"]["seed"] = -1;  // used to wrap to 2^64 - 1
  EXPECT_NE(refusal(j).find("split.seed must be in 0..18446744073709551615, got -1"), std::string::npos);
}

TEST(ExperimentConfigJson, NumbersBeyondFloatRangeAreRefused) {
  json j = kerasrs();
  j["optimizer"]["initial_accumulator"] = 1e39;
  EXPECT_EQ(refusal(j), "invalid experiment configuration: optimizer.initial_accumulator must be "
                        "within float range, got 1e+39");
  j = kerasrs();
  j["evaluation"]["min_rating"] = "5";
  EXPECT_NE(refusal(j).find("evaluation.min_rating must be a number"), std::string::npos);
}

// Model files written before the ranking metrics have no metrics_at,
// exclude_seen or positive_threshold: they load with the defaults. Present,
// they are read strictly.
TEST(ExperimentConfigJson, EvaluationProtocolKeysAreOptional) {
  json j = kerasrs();
  for (const char* key : {"metrics_at", "exclude_seen", "positive_threshold"}) {
    ASSERT_TRUE(j["evaluation"].contains(key)) << key;
    j["evaluation"].erase(key);
  }
  EXPECT_EQ(ExperimentConfig::from_json(j).to_json(), kerasrs());
  ExperimentConfig c = preset_config("tfrs");
  c.metrics_at = {1, 1000};
  c.exclude_seen = true;
  c.positive_threshold = 4.5f;
  EXPECT_EQ(ExperimentConfig::from_json(c.to_json()).to_json(), c.to_json());
  j = kerasrs();
  j["evaluation"]["metrics_at"] = {10, 2.5};
  EXPECT_NE(refusal(j).find("evaluation.metrics_at must be an array of integers"), std::string::npos);
  j = kerasrs();
  j["evaluation"]["metrics_at"] = {0};
  EXPECT_NE(refusal(j).find("evaluation.metrics_at entries must be in 1..2147483648, got 0"),
            std::string::npos);
  j = kerasrs();
  j["evaluation"]["exclude_seen"] = "yes";
  EXPECT_NE(refusal(j).find("invalid experiment configuration"), std::string::npos);
  j = kerasrs();
  j["evaluation"]["positive_threshold"] = 1e39;
  EXPECT_NE(refusal(j).find("evaluation.positive_threshold must be within float range"),
            std::string::npos);
}

TEST(ExperimentConfigJson, ExtremesThatFitAreKept) {
  json j = kerasrs();
  j["split"]["seed"] = 18446744073709551615ull;
  j["split"]["train_count"] = int64_t{1} << 40;
  const ExperimentConfig c = ExperimentConfig::from_json(j);
  EXPECT_EQ(c.seed, 18446744073709551615ull);
  EXPECT_EQ(c.train_count, int64_t{1} << 40);
  EXPECT_EQ(ExperimentConfig::from_json(c.to_json()).to_json(), c.to_json());
}

// The model file names every setting as the config file does; the keys of
// files written before the registry are still read, under their own
// meaning (distinct_rows is the inverse of full_score_matrix).
TEST(ExperimentConfigJson, KeysAreTheConfigFileNamesAndOldKeysStillLoad) {
  const json j = kerasrs();
  EXPECT_TRUE(j.at("training").contains("full_score_matrix"));
  EXPECT_TRUE(j.at("evaluation").contains("batch_size"));
  EXPECT_FALSE(j.contains("train"));
  json old = {{"preset", "tfrs"},
              {"data", {{"data_dir", "/d"}, {"id_mode", "vocabulary"}, {"label_transform", "raw"},
                        {"seed", 7}, {"csv", {{"separator", "auto"}}}}},
              {"model", {{"layer_sizes", {64}}, {"ranking_weight", 0.5}}},
              {"train", {{"distinct_rows", false}, {"reshuffle_each_epoch", true}, {"optimizer", "adam"}}},
              {"evaluate", {{"eval_batch_size", 77}, {"topk_min_rating", nullptr}}}};
  const ExperimentConfig c = ExperimentConfig::from_json(old);
  EXPECT_EQ(c.data_dir, "/d");
  EXPECT_EQ(c.id_mode, IdMode::kVocabulary);
  EXPECT_EQ(c.label_transform, LabelTransform::kRaw);
  EXPECT_EQ(c.seed, 7u);
  EXPECT_EQ(c.layer_sizes, std::vector<int64_t>{64});
  EXPECT_EQ(c.weights.ranking, 0.5f);
  EXPECT_FALSE(c.distinct_rows);
  EXPECT_EQ(c.shuffle, ShuffleMode::kEveryEpoch);
  EXPECT_EQ(c.optimizer.kind, OptimizerKind::kAdam);
  EXPECT_EQ(c.eval_batch_size, 77);
  EXPECT_FALSE(c.topk_min_rating);
  old["train"]["distinct_rows"] = "no";
  EXPECT_NE(refusal(old).find("train.distinct_rows must be true or false"), std::string::npos);
}

}  // namespace
}  // namespace tandem
