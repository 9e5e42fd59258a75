// The optimizer's settings in the config's JSON form (model files,
// checkpoints), in TOML files, and the resume rules that depend on them.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "tandem/config/config_file.h"
#include "tandem/config/experiment_config.h"
#include "tandem/experiment/resource_guard.h"
#include "tandem/config/resume_config.h"
#include "tandem/core/error.h"

namespace tandem {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

ExperimentConfig every_optimizer_field_set() {
  ExperimentConfig c = preset_config("tfrs");
  OptimizerConfig& o = c.optimizer;
  o.kind = OptimizerKind::kSgd;
  o.learning_rate = 0.02f;
  o.epsilon = 1e-6f;
  o.initial_accumulator = 0.2f;
  o.beta1 = 0.8f;
  o.beta2 = 0.99f;
  o.momentum = 0.9f;
  o.nesterov = true;
  o.embedding_l2 = 1e-4f;
  o.dense_l2 = 2e-5f;
  o.schedule.kind = LrScheduleKind::kExponential;
  o.schedule.warmup_steps = 7;
  o.schedule.decay_steps = 30;
  o.schedule.decay_rate = 0.7f;
  o.schedule.min_lr_fraction = 0.05f;
  return c;
}

TEST(OptimizerConfigIo, JsonAndTomlRoundTripEveryField) {
  const ExperimentConfig c = every_optimizer_field_set();
  const nlohmann::json j = c.to_json();
  EXPECT_EQ(j["optimizer"]["name"], "sgd");
  EXPECT_EQ(j["optimizer"]["lr_schedule"], "exponential");
  EXPECT_EQ(ExperimentConfig::from_json(j).to_json(), j);
  const std::string toml = config_to_toml(c);
  EXPECT_NE(toml.find("name = 'sgd'"), std::string::npos) << toml;
  EXPECT_EQ(parse_config_toml(toml, "printed.toml").to_json(), j) << toml;
}

// Model files and checkpoints written before these settings existed hold
// only Adagrad's keys: they load as the Adagrad they were trained with.
TEST(OptimizerConfigIo, OlderFilesLoadAsAdagrad) {
  nlohmann::json j = preset_config("kerasrs").to_json();
  for (const char* key : {"beta1", "beta2", "momentum", "nesterov", "embedding_l2", "dense_l2", "lr_schedule",
                          "warmup_steps", "decay_steps", "decay_rate", "min_lr_fraction"})
    ASSERT_EQ(j["optimizer"].erase(key), 1u) << key;
  j["optimizer"]["learning_rate"] = 0.05;
  const ExperimentConfig c = ExperimentConfig::from_json(j);
  EXPECT_EQ(c.optimizer.kind, OptimizerKind::kAdagrad);
  EXPECT_FLOAT_EQ(c.optimizer.learning_rate, 0.05f);
  EXPECT_EQ(c.optimizer.schedule.kind, LrScheduleKind::kConstant);
  EXPECT_EQ(c.optimizer.embedding_l2, 0.0f);
}

TEST(OptimizerConfigIo, BadJsonValuesAreRefusedNamingTheKey) {
  auto refusal = [](const char* key, nlohmann::json v) {
    nlohmann::json j = preset_config("kerasrs").to_json();
    j["optimizer"][key] = std::move(v);
    return error_of([&] { ExperimentConfig::from_json(j); });
  };
  EXPECT_NE(refusal("name", "rmsprop").find("optimizer.name must be one of adagrad, adam, sgd, got 'rmsprop'"), std::string::npos);
  EXPECT_NE(refusal("beta1", "x").find("optimizer.beta1 must be a number"), std::string::npos);
  EXPECT_NE(refusal("beta1", 1e300).find("optimizer.beta1 must be within float range"), std::string::npos);
  EXPECT_NE(refusal("beta2", 1.0).find("beta2 must be in [0, 1)"), std::string::npos);
  EXPECT_NE(refusal("warmup_steps", 1.5).find("optimizer.warmup_steps must be an integer"), std::string::npos);
  EXPECT_NE(refusal("warmup_steps", -3).find("optimizer.warmup_steps must be in 0..1099511627776, got -3"), std::string::npos);
  EXPECT_NE(refusal("nesterov", 1).find("optimizer.nesterov must be true or false"), std::string::npos);
  EXPECT_NE(refusal("lr_schedule", "linear").find("optimizer.lr_schedule must be one of constant"), std::string::npos);
}

TEST(OptimizerConfigIo, TomlKeysAndErrors) {
  const ExperimentConfig c = parse_config_toml(
      "preset = \"tfrs\"\n[optimizer]\nname = \"adam\"\nlearning_rate = 0.01\nbeta2 = 0.99\n"
      "embedding_l2 = 1e-5\nlr_schedule = \"cosine\"\nwarmup_steps = 3\nmin_lr_fraction = 0.1\n",
      "o.toml");
  EXPECT_EQ(c.optimizer.kind, OptimizerKind::kAdam);
  EXPECT_FLOAT_EQ(c.optimizer.learning_rate, 0.01f);
  EXPECT_FLOAT_EQ(c.optimizer.beta2, 0.99f);
  EXPECT_FLOAT_EQ(c.optimizer.embedding_l2, 1e-5f);
  EXPECT_EQ(c.optimizer.schedule.kind, LrScheduleKind::kCosine);
  EXPECT_EQ(c.optimizer.schedule.warmup_steps, 3);
  EXPECT_FLOAT_EQ(c.optimizer.schedule.min_lr_fraction, 0.1f);
  EXPECT_EQ(c.batch_size, 8192);  // the rest is the preset's

  auto err = [](const std::string& text) { return error_of([&] { parse_config_toml(text, "o.toml"); }); };
  EXPECT_EQ(err("[optimizer]\nname = \"rmsprop\"\n"),
            "o.toml:2: 'optimizer.name' must be one of adagrad, adam, sgd, got 'rmsprop'");
  EXPECT_EQ(err("[optimizer]\nlr_schedule = \"linear\"\n"),
            "o.toml:2: 'optimizer.lr_schedule' must be one of constant, linear-warmup, cosine, exponential, "
            "step, got 'linear'");
  EXPECT_EQ(err("[optimizer]\nwarmup_steps = -1\n").rfind("o.toml:2: 'optimizer.warmup_steps' must be in 0..", 0),
            0u);
  EXPECT_EQ(err("[optimizer]\nnesterov = true\n"), "o.toml: Nesterov momentum needs a momentum above 0");
  EXPECT_EQ(err("[optimizer]\nlr_schedule = \"step\"\n"), "o.toml: the step schedule needs decay_steps > 0");
}

TEST(OptimizerConfigIo, ResumeRefusesAnotherOptimizerAndEpochsUnderAWholeRunSchedule) {
  const ExperimentConfig stored = preset_config("tfrs");
  ExperimentConfig given = stored;
  given.optimizer.kind = OptimizerKind::kAdam;
  const std::string e = error_of([&] { resume_config(stored, given, 1, "ck"); });
  EXPECT_NE(e.find("--optimizer ([optimizer] name) is 'adagrad' in the checkpoint, 'adam' on the command line"),
            std::string::npos) << e;

  ExperimentConfig cosine = stored;
  cosine.optimizer.schedule.kind = LrScheduleKind::kCosine;
  given = cosine;
  given.epochs = 5;
  EXPECT_NE(error_of([&] { resume_config(cosine, given, 1, "ck"); }).find("--epochs ([training] epochs) is 3"),
            std::string::npos);
  cosine.optimizer.schedule.decay_steps = 50;  // a fixed length: extending is fine
  given = cosine;
  given.epochs = 5;
  EXPECT_NO_THROW(resume_config(cosine, given, 1, "ck"));
}

// Adam keeps two slots per weight, plain SGD none.
TEST(OptimizerConfigIo, MemoryEstimateCountsTheOptimizersSlots) {
  ExperimentConfig c = preset_config("kerasrs");
  c.embedding_dim = 4;
  c.layer_sizes = {8};
  c.batch_size = 10;
  c.threads = 1;
  const int64_t head = (8 * 8 + 8) + (8 + 1);
  c.optimizer.kind = OptimizerKind::kAdam;
  MemoryEstimate e = estimate_training_memory(c, 100, 50, 1000);
  EXPECT_EQ(e.parts[0].bytes, 100 * 4 * 4 * 3);  // weights, m, v
  EXPECT_EQ(e.parts[1].bytes, 50 * 4 * 4 * 3);
  EXPECT_EQ(e.parts[3].bytes, head * 4 * 5);  // weights, m, v, grads, 1 worker
  EXPECT_NE(e.parts[0].what.find("Adam state"), std::string::npos) << e.parts[0].what;
  c.optimizer.kind = OptimizerKind::kSgd;
  e = estimate_training_memory(c, 100, 50, 1000);
  EXPECT_EQ(e.parts[0].bytes, 100 * 4 * 4);
  EXPECT_EQ(e.parts[3].bytes, head * 4 * 3);
}

}  // namespace
}  // namespace tandem
