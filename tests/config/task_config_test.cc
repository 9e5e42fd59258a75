#include "tandem/config/task_config.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "tandem/config/config_file.h"
#include "tandem/config/experiment_config.h"
#include "tandem/core/error.h"

namespace tandem {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(TaskConfig, CliSpecWithAndWithoutThreshold) {
  const ExtraTaskSpec a = parse_extra_task_spec("liked:binary:1");
  EXPECT_EQ(a.name, "liked");
  EXPECT_EQ(a.kind, ExtraTaskKind::kBinary);
  EXPECT_EQ(a.weight, 1.0f);
  EXPECT_EQ(a.positive_threshold, 4.0f);
  const ExtraTaskSpec b = parse_extra_task_spec("loved:binary:0.5:5");
  EXPECT_EQ(b.weight, 0.5f);
  EXPECT_EQ(b.positive_threshold, 5.0f);
}

TEST(TaskConfig, CliSpecErrorsSayWhatIsWrong) {
  EXPECT_NE(error_of([] { parse_extra_task_spec("liked"); }).find("NAME:binary:WEIGHT"), std::string::npos);
  EXPECT_NE(error_of([] { parse_extra_task_spec("liked:ordinal:1"); }).find("unknown task kind 'ordinal'"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_extra_task_spec("liked:binary:x"); }).find("weight 'x' is not a number"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_extra_task_spec("liked:binary:-1"); }).find("weight must be finite and >= 0"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_extra_task_spec("rating:binary:1"); }).find("built-in"), std::string::npos);
  EXPECT_NE(error_of([] { parse_extra_task_spec("retrieval:binary:1"); }).find("built-in"), std::string::npos);
  EXPECT_NE(error_of([] { parse_extra_task_spec("a b:binary:1"); }).find("letters, digits"), std::string::npos);
  EXPECT_NE(error_of([] { parse_extra_task_spec("liked:binary:1:"); }).find("threshold '' is not a number"),
            std::string::npos);
}

TEST(TaskConfig, ListValidation) {
  ExtraTaskSpec t;
  t.name = "liked";
  EXPECT_NE(error_of([&] { validate_extra_tasks({t, t}); }).find("'liked' is given twice"), std::string::npos);
  std::vector<ExtraTaskSpec> many;
  for (int i = 0; i <= kMaxExtraTasks; ++i) {
    t.name = "t" + std::to_string(i);
    many.push_back(t);
  }
  EXPECT_NE(error_of([&] { validate_extra_tasks(many); }).find("too many extra tasks"), std::string::npos);
  many.pop_back();
  EXPECT_EQ(error_of([&] { validate_extra_tasks(many); }), "no error");
}

TEST(TaskConfig, TomlArrayOfTablesRoundTripsThroughTheConfigFile) {
  const ExperimentConfig c = parse_config_toml(R"(
preset = "kerasrs"
[tasks]
ranking_weight = 1.0
[[tasks.extra]]
name = "liked"
kind = "binary"
weight = 2.5
[[tasks.extra]]
name = "loved"
kind = "binary"
weight = 0.5
positive_threshold = 5
)", "cfg.toml");
  ASSERT_EQ(c.extra_tasks.size(), 2u);
  EXPECT_EQ(c.extra_tasks[0].name, "liked");
  EXPECT_EQ(c.extra_tasks[0].weight, 2.5f);
  EXPECT_EQ(c.extra_tasks[0].positive_threshold, 4.0f);
  EXPECT_EQ(c.extra_tasks[1].positive_threshold, 5.0f);
  // The printed config reads back the same tasks.
  const ExperimentConfig again = parse_config_toml(config_to_toml(c), "printed.toml");
  ASSERT_EQ(again.extra_tasks.size(), 2u);
  EXPECT_EQ(again.extra_tasks[1].name, "loved");
  EXPECT_EQ(again.extra_tasks[1].weight, 0.5f);
  // The label threshold follows the label transform: (4 - 1) / 4 on kerasrs's unit interval.
  const ModelShape shape = model_shape(c, 10, 10);
  EXPECT_EQ(shape.extra_tasks[0].label_threshold, 0.75f);
}

TEST(TaskConfig, TomlErrorsNameTheFileAndTheEntry) {
  const auto err = [](const std::string& text) {
    return error_of([&] { parse_config_toml(text, "cfg.toml"); });
  };
  EXPECT_NE(err("[tasks]\nextra = 3\n").find("must be an array of tables"), std::string::npos);
  const std::string unknown = err("[[tasks.extra]]\nname = \"a\"\n[[tasks.extra]]\nname = \"b\"\ncolour = 1\n");
  EXPECT_NE(unknown.find("cfg.toml:"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("[[tasks.extra]] #2: unknown key 'colour'"), std::string::npos) << unknown;
  EXPECT_NE(err("[[tasks.extra]]\nname = 3\n").find("'name' must be a string"), std::string::npos);
  EXPECT_NE(err("[[tasks.extra]]\nname = \"a\"\nweight = \"x\"\n").find("'weight' must be a number"),
            std::string::npos);
  EXPECT_NE(err("[[tasks.extra]]\nkind = \"binary\"\n").find("needs a name"), std::string::npos);
  EXPECT_NE(err("[[tasks.extra]]\nname = \"a\"\nkind = \"ordinal\"\n").find("unknown task kind"),
            std::string::npos);
  EXPECT_NE(err("[[tasks.extra]]\nname = \"a\"\n[[tasks.extra]]\nname = \"a\"\n").find("given twice"),
            std::string::npos);
  EXPECT_NE(err("[[tasks.extra]]\nname = \"ranking\"\n").find("built-in"), std::string::npos);
}

TEST(TaskConfig, ModelFileJsonRoundTripsAndOlderFilesHaveNone) {
  ExperimentConfig c = preset_config("kerasrs");
  const nlohmann::json before = c.to_json();
  EXPECT_TRUE(before.at("tasks").at("extra").empty());  // none unless configured
  EXPECT_TRUE(ExperimentConfig::from_json(before).extra_tasks.empty());
  c.extra_tasks.push_back(parse_extra_task_spec("liked:binary:1.5:3"));
  const nlohmann::json j = c.to_json();
  ASSERT_EQ(j.at("tasks").at("extra").size(), 1u);  // the TOML path, as every setting
  const ExperimentConfig back = ExperimentConfig::from_json(j);
  ASSERT_EQ(back.extra_tasks.size(), 1u);
  EXPECT_EQ(back.extra_tasks[0].name, "liked");
  EXPECT_EQ(back.extra_tasks[0].weight, 1.5f);
  EXPECT_EQ(back.extra_tasks[0].positive_threshold, 3.0f);
  nlohmann::json bad = j;
  bad["tasks"]["extra"][0]["kind"] = "ordinal";
  EXPECT_NE(error_of([&] { ExperimentConfig::from_json(bad); }).find("unknown task kind"), std::string::npos);
}

}  // namespace
}  // namespace tandem
