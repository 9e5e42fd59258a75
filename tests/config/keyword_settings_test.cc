// Settings as keywords (the Python module's tandem.train(**settings)): bare
// TOML keys, paths, tables, and errors that name the keyword.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "tandem/config/keyword_settings.h"
#include "tandem/config/settings.h"
#include "tandem/core/error.h"

namespace tandem {
namespace {

using json = nlohmann::json;

json value_of(const ExperimentConfig& c, const char* path) { return find_setting(path)->get(c); }

std::string error_of(const json& keywords) {
  ExperimentConfig c = preset_config("kerasrs");
  try {
    apply_keyword_settings(c, keywords);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(KeywordSettings, BareKeysPathsAndTablesSetTheirSettings) {
  ExperimentConfig c = preset_config("kerasrs");
  apply_keyword_settings(c, {{"epochs", 3},
                             {"embedding_dim", 16},
                             {"training.seed", 11},
                             {"optimizer", {{"name", "adam"}}},
                             {"layers", {64, 32}}});
  EXPECT_EQ(value_of(c, "training.epochs"), 3);
  EXPECT_EQ(value_of(c, "model.embedding_dim"), 16);
  EXPECT_EQ(value_of(c, "training.seed"), 11);
  EXPECT_EQ(value_of(c, "optimizer.name"), "adam");
  // Everything not given keeps the preset's value.
  const ExperimentConfig preset = preset_config("kerasrs");
  EXPECT_EQ(value_of(c, "split.seed"), value_of(preset, "split.seed"));
  EXPECT_EQ(value_of(c, "training.batch_size"), value_of(preset, "training.batch_size"));
}

TEST(KeywordSettings, ASharedKeyMeansTheSettingWhoseFlagItIs) {
  ExperimentConfig c = preset_config("kerasrs");
  apply_keyword_settings(c, {{"seed", 5}, {"batch_size", 512}, {"positive_threshold", 3.5}});
  EXPECT_EQ(value_of(c, "split.seed"), 5);                // --seed
  EXPECT_EQ(value_of(c, "training.batch_size"), 512);     // --batch-size
  EXPECT_EQ(value_of(c, "evaluation.positive_threshold"), 3.5);  // --positive-threshold
  EXPECT_NE(value_of(c, "evaluation.batch_size"), 512);
}

TEST(KeywordSettings, ErrorsNameTheKeyword) {
  EXPECT_NE(error_of({{"epoch", 2}}).find("unknown setting epoch (did you mean epochs?)"), std::string::npos)
      << error_of({{"epoch", 2}});
  EXPECT_NE(error_of({{"epochs", 0}}).find("epochs (training.epochs): must be"), std::string::npos)
      << error_of({{"epochs", 0}});
  EXPECT_NE(error_of({{"epochs", "two"}}).find("got \"two\""), std::string::npos) << error_of({{"epochs", "two"}});
  EXPECT_NE(error_of({{"user", 0}}).find("keyword user is ambiguous"), std::string::npos) << error_of({{"user", 0}});
  EXPECT_NE(error_of({{"epochs", 2}, {"training.epochs", 3}}).find("given twice"), std::string::npos);
  EXPECT_NE(error_of({{"preset", "tfrs"}}).find("unknown setting preset"), std::string::npos);
  EXPECT_NE(error_of({{"optimizer", {{"nam", "adam"}}}}).find("unknown setting optimizer.nam"), std::string::npos);
  EXPECT_EQ(error_of({{"epochs", 2}}), "");
}

TEST(KeywordSettings, PathsAreMadeAbsolute) {
  ExperimentConfig c = preset_config("kerasrs");
  apply_keyword_settings(c, {{"train_file", "some/train.data"}});
  const std::string path = value_of(c, "data.train_file").get<std::string>();
  EXPECT_TRUE(std::filesystem::path(path).is_absolute()) << path;
  EXPECT_NE(path.find("some/train.data"), std::string::npos);
}

TEST(KeywordSettings, EveryKeywordListedIsAccepted) {
  const std::vector<std::string> names = setting_keywords();
  EXPECT_NE(std::find(names.begin(), names.end(), "epochs"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "training.seed"), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), "user"), names.end());  // ambiguous: paths only
  for (const std::string& n : names) {
    const Setting* s = nullptr;
    for (const Setting& t : settings()) {
      if (t.path() == n || t.key == n) s = s ? s : &t;
    }
    ASSERT_NE(s, nullptr) << n;
  }
}

}  // namespace
}  // namespace tandem
