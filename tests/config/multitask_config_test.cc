// The multi-task settings in config files: parsed, validated with errors
// naming the key, printed only when set (a preset prints as before), and
// counted in the memory plan.
#include <gtest/gtest.h>

#include <string>

#include "tandem/config/config_file.h"
#include "tandem/experiment/resource_guard.h"
#include "tandem/core/error.h"

namespace tandem {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_config_toml(text, "cfg.toml");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(MultitaskConfig, KeysParseAndRoundTripThroughThePrintedFile) {
  const ExperimentConfig c = parse_config_toml(R"(
preset = "tfrs"
[model]
multitask = "ple"
shared_experts = 3
task_experts = 1
expert_dim = 16
[tasks]
task_weighting = "uncertainty"
)", "cfg.toml");
  EXPECT_EQ(c.multitask.arch, MultitaskArch::kPle);
  EXPECT_EQ(c.multitask.shared_experts, 3);
  EXPECT_EQ(c.multitask.task_experts, 1);
  EXPECT_EQ(c.multitask.expert_dim, 16);
  EXPECT_EQ(c.multitask.weighting, TaskWeighting::kUncertainty);
  const std::string printed = config_to_toml(c);
  EXPECT_NE(printed.find("multitask = 'ple'"), std::string::npos) << printed;
  EXPECT_NE(printed.find("task_weighting = 'uncertainty'"), std::string::npos) << printed;
  EXPECT_EQ(parse_config_toml(printed, "printed.toml").to_json(), c.to_json());
  // The presets print no multitask keys (their files stay as they were).
  const std::string preset = config_to_toml(preset_config("tfrs"));
  EXPECT_EQ(preset.find("multitask"), std::string::npos);
  EXPECT_EQ(preset.find("task_weighting"), std::string::npos);
}

TEST(MultitaskConfig, BadValuesNameTheKey) {
  EXPECT_NE(error_of("[model]\nmultitask = \"moe\"\n").find("'model.multitask' must be one of"),
            std::string::npos);
  EXPECT_NE(error_of("[model]\nexperts = 0\n").find("'model.experts' must be in 1..64"),
            std::string::npos);
  EXPECT_NE(error_of("[model]\nexpert_dim = 5000\n").find("model.expert_dim"), std::string::npos);
  EXPECT_NE(error_of("[tasks]\ntask_weighting = \"learned\"\n").find("tasks.task_weighting"),
            std::string::npos);
  EXPECT_NE(error_of("[model]\nmultitask = \"ple\"\nshared_experts = 0\ntask_experts = 0\n")
                .find("ple needs at least one expert"),
            std::string::npos);
}

TEST(MultitaskConfig, MemoryPlanCountsTheExpertLayers) {
  ExperimentConfig c = preset_config("tfrs");
  c.threads = 1;
  const int64_t shared = estimate_training_memory(c, 1000, 2000, 80000).total();
  c.multitask.arch = MultitaskArch::kMmoe;
  const MemoryEstimate e = estimate_training_memory(c, 1000, 2000, 80000);
  bool found = false;
  for (const auto& p : e.parts) found = found || p.what.find("expert layers") != std::string::npos;
  EXPECT_TRUE(found);
  // The expert part alone: 2 towers x (params x 3 + workspace) floats.
  const MoeLayout l = c.multitask.moe_layout();
  const int64_t expert_bytes =
      2 * 4 * (3 * moe_parameter_count(32, l) + moe_workspace_floats(32, l, 8192));
  EXPECT_EQ(e.total(), shared + expert_bytes);  // expert_dim 32 = embedding_dim: head unchanged
}

// Experts over the side-feature towers read the towers' output width, and
// the item side's layer also runs over the mixed negatives.
TEST(MultitaskConfig, MemoryPlanSizesExpertsOverTowersAndMixedNegatives) {
  ExperimentConfig c = preset_config("tfrs");
  c.threads = 1;
  c.multitask.arch = MultitaskArch::kMmoe;
  c.side_features.user = {"age"};
  c.side_features.tower_layers = {48};
  const auto expert_part = [&] {
    for (const auto& p : estimate_training_memory(c, 1000, 2000, 80000).parts)
      if (p.what.find("expert layers") != std::string::npos) return p.bytes;
    return int64_t{-1};
  };
  const MoeLayout l = c.multitask.moe_layout();
  EXPECT_EQ(expert_part(), 4 * (2 * 3 * moe_parameter_count(48, l) + 2 * moe_workspace_floats(48, l, 8192)));
  c.retrieval.mixed_negatives = 1000;
  EXPECT_EQ(expert_part(), 4 * (2 * 3 * moe_parameter_count(48, l) + moe_workspace_floats(48, l, 8192) +
                                moe_workspace_floats(48, l, 9192)));
}

}  // namespace
}  // namespace tandem
