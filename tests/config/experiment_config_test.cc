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
  j["data"]["seed"] = json::parse("18446744073709551616");
  ASSERT_TRUE(j["data"]["seed"].is_number_float());
  EXPECT_EQ(refusal(j), "invalid experiment configuration: data.seed must be an integer in [0, "
                        "18446744073709551615], got 1.8446744073709552e+19");
  j = kerasrs();
  j["train"]["epochs"] = 1e30;
  EXPECT_NE(refusal(j).find("train.epochs must be an integer"), std::string::npos);
}

TEST(ExperimentConfigJson, WholeFloatsAreNotIntegers) {
  json j = kerasrs();
  j["evaluate"]["k"] = 10.0;
  EXPECT_NE(refusal(j).find("evaluate.k must be an integer"), std::string::npos);
  j = kerasrs();
  j["model"]["layer_sizes"] = {256, 128.5};
  EXPECT_NE(refusal(j).find("model.layer_sizes[] must be an integer"), std::string::npos);
}

TEST(ExperimentConfigJson, IntegersThatDoNotFitTheFieldAreRefusedNotWrapped) {
  json j = kerasrs();
  j["train"]["threads"] = 4294967297LL;  // used to wrap to 1 thread
  EXPECT_EQ(refusal(j), "invalid experiment configuration: train.threads must be an integer in "
                        "[-2147483648, 2147483647], got 4294967297");
  j = kerasrs();
  j["data"]["seed"] = -1;  // used to wrap to 2^64 - 1
  EXPECT_NE(refusal(j).find("data.seed must be an integer in [0, "), std::string::npos);
}

TEST(ExperimentConfigJson, NumbersBeyondFloatRangeAreRefused) {
  json j = kerasrs();
  j["train"]["initial_accumulator"] = 1e39;
  EXPECT_EQ(refusal(j), "invalid experiment configuration: train.initial_accumulator must be a "
                        "number within float range, got 1e+39");
  j = kerasrs();
  j["evaluate"]["topk_min_rating"] = "5";
  EXPECT_NE(refusal(j).find("evaluate.topk_min_rating must be a number"), std::string::npos);
}

// Model files written before the ranking metrics have no metrics_at,
// exclude_seen or positive_threshold: they load with the defaults. Present,
// they are read strictly.
TEST(ExperimentConfigJson, EvaluationProtocolKeysAreOptional) {
  json j = kerasrs();
  for (const char* key : {"metrics_at", "exclude_seen", "positive_threshold"}) {
    ASSERT_TRUE(j["evaluate"].contains(key)) << key;
    j["evaluate"].erase(key);
  }
  EXPECT_EQ(ExperimentConfig::from_json(j).to_json(), kerasrs());
  ExperimentConfig c = preset_config("tfrs");
  c.metrics_at = {1, 1000};
  c.exclude_seen = true;
  c.positive_threshold = 4.5f;
  EXPECT_EQ(ExperimentConfig::from_json(c.to_json()).to_json(), c.to_json());
  j = kerasrs();
  j["evaluate"]["metrics_at"] = {10, 2.5};
  EXPECT_NE(refusal(j).find("evaluate.metrics_at[] must be an integer"), std::string::npos);
  j = kerasrs();
  j["evaluate"]["metrics_at"] = {0};
  EXPECT_NE(refusal(j).find("metrics_at values must be positive, got 0"), std::string::npos);
  j = kerasrs();
  j["evaluate"]["exclude_seen"] = "yes";
  EXPECT_NE(refusal(j).find("invalid experiment configuration"), std::string::npos);
  j = kerasrs();
  j["evaluate"]["positive_threshold"] = 1e39;
  EXPECT_NE(refusal(j).find("evaluate.positive_threshold must be a number within float range"),
            std::string::npos);
}

TEST(ExperimentConfigJson, ExtremesThatFitAreKept) {
  json j = kerasrs();
  j["data"]["seed"] = 18446744073709551615ull;
  j["data"]["train_count"] = 9223372036854775807LL;
  const ExperimentConfig c = ExperimentConfig::from_json(j);
  EXPECT_EQ(c.seed, 18446744073709551615ull);
  EXPECT_EQ(c.train_count, 9223372036854775807LL);
  EXPECT_EQ(ExperimentConfig::from_json(c.to_json()).to_json(), c.to_json());
}

}  // namespace
}  // namespace tandem
