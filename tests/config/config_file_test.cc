#include "tandem/config/config_file.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>

#include <unistd.h>

#include "support/special_files.h"
#include "tandem/core/error.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

std::string error_of(const std::string& text) {
  try {
    parse_config_toml(text, "cfg.toml");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(ConfigFile, FileValuesOverrideThePreset) {
  const ExperimentConfig c = parse_config_toml(R"(
preset = "tfrs"
[model]
embedding_dim = 64
layers = [128]
[tasks]
retrieval_weight = 0.25
ranking_weight = 1   # an integer is accepted as a number
[training]
epochs = 7
memory_budget = "2G"
[evaluation]
accuracy_at = [3, 30]
min_rating = 4.0
)",
                                               "cfg.toml");
  ExperimentConfig want = preset_config("tfrs");
  want.embedding_dim = 64;
  want.layer_sizes = {128};
  want.weights = {1.0f, 0.25f};
  want.epochs = 7;
  want.memory_budget_bytes = int64_t{2} << 30;
  want.accuracy_at = {3, 30};
  want.topk_min_rating = 4.0f;
  EXPECT_EQ(c.to_json(), want.to_json());
  EXPECT_EQ(c.memory_budget_bytes, want.memory_budget_bytes);
  // Untouched keys keep the preset's values.
  EXPECT_EQ(c.batch_size, 8192);
  EXPECT_EQ(c.shuffle, ShuffleMode::kOnce);
  EXPECT_EQ(c.item_key, ItemKey::kTitle);
}

TEST(ConfigFile, RoundTripsThroughItsOwnOutput) {
  for (const std::string preset : {"kerasrs", "tfrs"}) {
    ExperimentConfig c = preset_config(preset);
    c.data_dir = "/data/ml 100k \"quoted\"";
    c.seed = 7;
    c.layer_sizes = {64, 32, 16};
    c.weights = {0.3f, 1.0f};
    c.optimizer.learning_rate = 0.05f;
    c.parallelism = Parallelism::kBlas;
    c.distinct_rows = false;
    c.memory_budget_bytes = 123456789;
    c.metrics_at = {5, 20};
    c.exclude_seen = true;
    c.positive_threshold = 3.5f;
    const ExperimentConfig back = parse_config_toml(config_to_toml(c), "printed.toml");
    EXPECT_EQ(back.to_json(), c.to_json()) << config_to_toml(c);
    EXPECT_EQ(back.memory_budget_bytes, c.memory_budget_bytes);
  }
}

TEST(ConfigFile, EvaluationProtocolKeys) {
  const ExperimentConfig c = parse_config_toml(
      "[evaluation]\nmetrics_at = [20, 5]\nexclude_seen = true\npositive_threshold = 3\n", "cfg.toml");
  EXPECT_EQ(c.metrics_at, (std::vector<int64_t>{20, 5}));
  EXPECT_TRUE(c.exclude_seen);
  EXPECT_EQ(c.positive_threshold, 3.0f);
  // Defaults: the tutorials' protocol, K = 10 and 100, 4 stars.
  const ExperimentConfig d = parse_config_toml("", "cfg.toml");
  EXPECT_EQ(d.metrics_at, (std::vector<int64_t>{10, 100}));
  EXPECT_FALSE(d.exclude_seen);
  EXPECT_EQ(d.positive_threshold, 4.0f);
  EXPECT_EQ(error_of("[evaluation]\nmetrics_at = [10, 0]\n"),
            "cfg.toml:2: 'evaluation.metrics_at' entries must be in 1..2147483648, got 0");
  EXPECT_EQ(error_of("[evaluation]\nexclude_seen = 1\n"),
            "cfg.toml:2: 'evaluation.exclude_seen' must be true or false");
  EXPECT_EQ(error_of("[evaluation]\npositive_threshold = \"4\"\n"),
            "cfg.toml:2: 'evaluation.positive_threshold' must be a number");
}

TEST(ConfigFile, ShuffleModeAndItemKey) {
  EXPECT_EQ(parse_config_toml("[training]\nshuffle = \"every-epoch\"\n", "cfg.toml").shuffle,
            ShuffleMode::kEveryEpoch);
  EXPECT_EQ(parse_config_toml("preset = \"tfrs\"\n[training]\nshuffle = \"none\"\n", "cfg.toml").shuffle,
            ShuffleMode::kNone);
  // The older boolean spelling: true was a new order every epoch, false none.
  EXPECT_EQ(parse_config_toml("preset = \"tfrs\"\n[training]\nreshuffle_each_epoch = false\n", "cfg.toml").shuffle,
            ShuffleMode::kNone);
  EXPECT_EQ(parse_config_toml("[training]\nreshuffle_each_epoch = true\n", "cfg.toml").shuffle,
            ShuffleMode::kEveryEpoch);
  EXPECT_EQ(error_of("[training]\nshuffle = \"always\"\n").rfind("cfg.toml:2: 'training.shuffle' must be one of none, once, every-epoch", 0), 0u)
      << error_of("[training]\nshuffle = \"always\"\n");
  EXPECT_NE(error_of("[training]\nreshuffle_each_epoch = true\nshuffle = \"once\"\n").find("both shuffle and"),
            std::string::npos);

  EXPECT_EQ(parse_config_toml("preset = \"tfrs\"\n[data]\nitem_key = \"id\"\n", "cfg.toml").item_key, ItemKey::kId);
  EXPECT_EQ(parse_config_toml("preset = \"tfrs\"\n", "cfg.toml").item_key, ItemKey::kTitle);
  EXPECT_EQ(error_of("[data]\nitem_key = \"name\"\n").rfind("cfg.toml:2: 'data.item_key' must be one of id, title", 0), 0u)
      << error_of("[data]\nitem_key = \"name\"\n");
  // Title keys need a vocabulary: the kerasrs preset's integer ids make the id the row.
  EXPECT_NE(error_of("[data]\nitem_key = \"title\"\n").find("item_key = title needs vocabulary ids"),
            std::string::npos)
      << error_of("[data]\nitem_key = \"title\"\n");
  // Both survive the model file's JSON.
  ExperimentConfig c = preset_config("tfrs");
  c.shuffle = ShuffleMode::kEveryEpoch;
  const ExperimentConfig back = ExperimentConfig::from_json(c.to_json());
  EXPECT_EQ(back.shuffle, ShuffleMode::kEveryEpoch);
  EXPECT_EQ(back.item_key, ItemKey::kTitle);
  // A model file written before both: a bool, and no item key.
  nlohmann::json old = c.to_json();
  old["training"].erase("shuffle");
  old["train"]["reshuffle_each_epoch"] = true;
  old["data"].erase("item_key");
  const ExperimentConfig legacy = ExperimentConfig::from_json(old);
  EXPECT_EQ(legacy.shuffle, ShuffleMode::kEveryEpoch);
  EXPECT_EQ(legacy.item_key, ItemKey::kId);
}

TEST(ConfigFile, PresetOverrideAndRelativePaths) {
  const auto c = parse_config_toml("preset = \"kerasrs\"\n[data]\ndir = \"ml\"\ntrain_file = \"/abs/t.data\"\n"
                                   "test_file = \"rel/test.data\"\n",
                                   "cfg.toml", "tfrs", "/base/dir");
  EXPECT_EQ(c.preset, "tfrs");
  EXPECT_EQ(c.batch_size, 8192);  // the tfrs base, not kerasrs
  EXPECT_EQ(c.data_dir, "/base/dir/ml");
  EXPECT_EQ(c.train_file, "/abs/t.data");
  EXPECT_EQ(c.test_file, "/base/dir/rel/test.data");
}

TEST(ConfigFile, ErrorsNameTheKeyAndTheLine) {
  EXPECT_EQ(error_of("[model]\nembedding_dim = 8\nembeding_dim = 4\n"),
            "cfg.toml:3: unknown key 'model.embeding_dim' (known here: embedding_dim, expert_dim, experts, layers, multitask, shared_experts, task_experts)");
  EXPECT_EQ(error_of("[training]\nepochs = \"5\"\n"), "cfg.toml:2: 'training.epochs' must be an integer");
  EXPECT_EQ(error_of("[training]\nepochs = 0\n"), "cfg.toml:2: 'training.epochs' must be in 1..100000, got 0");
  EXPECT_EQ(error_of("[training]\nparallelism = \"gpu\"\n"),
            "cfg.toml:2: 'training.parallelism' must be one of batch, blas, got 'gpu'");
  EXPECT_EQ(error_of("\n[modle]\nx = 1\n"), "cfg.toml:2: unknown key 'modle' (known here: data, evaluation, "
                                            "features, model, optimizer, preset, retrieval, split, tasks, training)");
  EXPECT_EQ(error_of("model = 3\n"), "cfg.toml:1: 'model' must be a table ([model])");
  EXPECT_EQ(error_of("[model]\nlayers = [256, \"x\"]\n"),
            "cfg.toml:2: 'model.layers' must be an array of integers");
  EXPECT_EQ(error_of("[tasks]\nranking_weight = true\n"), "cfg.toml:2: 'tasks.ranking_weight' must be a number");
  EXPECT_EQ(error_of("[tasks]\nranking_weight = nan\n"), "cfg.toml:2: 'tasks.ranking_weight' must be finite");
  EXPECT_EQ(error_of("[evaluation]\nmetrics = [\"auc\"]\n"),
            "cfg.toml:2: 'evaluation.metrics' lists 'auc'; known: topk_accuracy, rmse");
  EXPECT_NE(error_of("[training]\nmemory_budget = \"lots\"\n").find("cfg.toml:2: 'training.memory_budget'"),
            std::string::npos);
  // Syntax errors carry line and column.
  EXPECT_EQ(error_of("preset = \"tfrs\"\n[model\n").rfind("cfg.toml:2:", 0), 0u) << error_of("[model\n");
  // Values that parse but make no experiment: the config's own validation.
  EXPECT_EQ(error_of("[tasks]\nranking_weight = 0\nretrieval_weight = 0\n"),
            "cfg.toml: at least one task weight must be positive");
  EXPECT_EQ(error_of("preset = \"keras\"\n").rfind("cfg.toml:1: 'preset' must be one of kerasrs, tfrs", 0), 0u);
}

// The shipped examples describe exactly their presets.
TEST(ConfigFile, ShippedExamplesAreThePresets) {
  const char* src = std::getenv("TANDEM_SOURCE_DIR");
  const fs::path root = src ? fs::path(src) : fs::current_path();
  for (const std::string preset : {"kerasrs", "tfrs"}) {
    const fs::path file = root / "examples" / (preset + ".toml");
    ASSERT_TRUE(fs::exists(file)) << file;
    EXPECT_EQ(load_config_file(file.string()).to_json(), preset_config(preset).to_json()) << preset;
  }
  EXPECT_THROW(load_config_file((root / "examples" / "absent.toml").string()), Error);
}

// A config file must be a regular file: /dev/zero would be read forever and
// a FIFO would block; both are refused by name (in a child an alarm bounds).
TEST(ConfigFile, DevicesAndFifosAreRefusedByName) {
  const fs::path dir = fs::temp_directory_path() / ("tandem_config_fifo_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  testing::make_fifo(dir / "cfg.toml");
  for (const auto& [path, kind] : {std::pair<std::string, std::string>{"/dev/zero", "(a character device)"},
                                   {(dir / "cfg.toml").string(), "(a FIFO)"},
                                   {dir.string(), "(a directory)"}}) {
    // A named copy: C++17 lambdas cannot capture a structured binding (clang refuses it).
    const std::string& file = path;
    const testing::BoundedCall r = testing::call_within(10, [&file] { (void)load_config_file(file); });
    EXPECT_TRUE(r.finished) << path << ": still reading after 10 s";
    EXPECT_EQ(r.message, path + ": cannot read config file: not a regular file " + kind);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tandem
