// The settings registry: one record per setting, names that agree across
// the TOML file, the model file and the flags, and docs/config.md's table
// generated from it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "tandem/config/config_file.h"
#include "tandem/config/settings.h"
#include "tandem/core/error.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

TEST(Settings, PathsAndFlagsAreUnique) {
  std::set<std::string> paths, flags;
  for (const Setting& s : settings()) {
    EXPECT_TRUE(paths.insert(s.path()).second) << s.path();
    if (s.flag) {
      EXPECT_TRUE(flags.insert(s.flag).second) << s.flag;
    }
    EXPECT_NE(s.get, nullptr) << s.path();
    EXPECT_NE(s.set, nullptr) << s.path();
    EXPECT_EQ(find_setting(s.path()), &s);
  }
}

// Every value a preset holds is one its setting accepts, and setting it back
// changes nothing.
TEST(Settings, PresetValuesPassTheirOwnChecks) {
  for (const std::string preset : {"kerasrs", "tfrs"}) {
    const ExperimentConfig c = preset_config(preset);
    for (const Setting& s : settings()) {
      const nlohmann::json v = s.get(c);
      ExperimentConfig d = c;
      s.set(d, check_setting_value(s, v));
      EXPECT_EQ(d.to_json(), c.to_json()) << s.path();
    }
  }
}

// The model file's JSON path of a setting is its TOML path.
TEST(Settings, ModelFileKeysAreTheTomlKeys) {
  ExperimentConfig c = preset_config("tfrs");
  c.distinct_rows = false;
  c.eval_batch_size = 123;
  const nlohmann::json j = c.to_json();
  EXPECT_EQ(j.at("training").at("full_score_matrix"), true);
  EXPECT_EQ(j.at("evaluation").at("batch_size"), 123);
  const std::string toml = config_to_toml(c);
  EXPECT_NE(toml.find("full_score_matrix = true"), std::string::npos);
  EXPECT_EQ(parse_config_toml(toml, "t.toml").to_json(), j);
}

TEST(Settings, HelpStatesTheRegistryDefault) {
  EXPECT_EQ(setting_help(*find_setting("model.embedding_dim")), "Embedding dimension (default 32)");
  EXPECT_EQ(setting_help(*find_setting("training.batch_size")),
            "Training batch size (kerasrs 1000, tfrs 8192)");
  EXPECT_EQ(setting_help(*find_setting("training.threads")), "Threads (default 0: all cores)");
}

TEST(Settings, FlagTextIsCheckedNamingTheFlag) {
  const Setting& epochs = *find_setting("training.epochs");
  EXPECT_EQ(setting_value_from_text(epochs, {"7"}), 7);
  auto error = [](const Setting& s, const std::vector<std::string>& t) {
    try {
      setting_value_from_text(s, t);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(error(epochs, {"0"}), "--epochs: must be in 1..100000, got 0");
  EXPECT_EQ(error(epochs, {"five"}), "--epochs: must be an integer, got 'five'");
  EXPECT_EQ(error(*find_setting("model.layers"), {"64", "x"}), "--layers: must be an integer, got 'x'");
  EXPECT_EQ(setting_value_from_text(*find_setting("training.memory_budget"), {"1K"}), 1024);
}

// docs/config.md holds the table the registry generates: regenerate it with
// `tandem config --update-docs docs/config.md` after changing a setting.
TEST(Settings, DocsTableIsCurrent) {
  const char* src = std::getenv("TANDEM_SOURCE_DIR");
  const fs::path doc = (src ? fs::path(src) : fs::current_path()) / "docs" / "config.md";
  std::ifstream in(doc);
  ASSERT_TRUE(in) << doc;
  std::ostringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), with_settings_docs(text.str()))
      << "docs/config.md is stale: run tandem config --update-docs docs/config.md";
  EXPECT_THROW(with_settings_docs("no markers"), Error);
}

}  // namespace
}  // namespace tandem
