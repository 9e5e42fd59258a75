// The tandem binary end to end on MovieLens-100K: train -> evaluate ->
// recommend, compare's JSON, explicit train/test files, and bad input at the
// CLI edge. Short trainings (1 epoch) keep this fast; quality bands are
// asserted in quality_test.cc.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "e2e_util.h"

namespace tandem::testing {
namespace {

namespace fs = std::filesystem;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tandem_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string data_flag() const { return "--data '" + movielens_dir() + "'"; }
  fs::path dir_;
};

TEST_F(Cli, TrainEvaluateRecommendRoundTrip) {
  TANDEM_REQUIRE_MOVIELENS();
  const std::string model = path("joint.tandem");
  auto train = run_tandem("train --preset kerasrs " + data_flag() +
                          " --epochs 1 --seed 3 --threads 1 --json --quiet --output '" + model + "'");
  ASSERT_EQ(train.exit_code, 0) << train.err;
  const auto t = nlohmann::json::parse(train.out);
  for (const char* f : {"model", "k", "topk_accuracy", "rmse", "train_seconds"})
    EXPECT_TRUE(t.contains(f)) << f;
  EXPECT_EQ(t["k"], 10);
  ASSERT_TRUE(fs::exists(model));

  // evaluate re-creates the same split from the seed stored in the file and
  // must reproduce the training run's metrics exactly.
  auto eval = run_tandem("evaluate --json --threads 1 --model '" + model + "'");
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  const auto e = nlohmann::json::parse(eval.out);
  EXPECT_DOUBLE_EQ(e["topk_accuracy"].get<double>(), t["topk_accuracy"].get<double>());
  EXPECT_DOUBLE_EQ(e["rmse"].get<double>(), t["rmse"].get<double>());
  EXPECT_EQ(e["test"]["pairs"], 20000);
  for (const char* f : {"recall_at", "ndcg_at", "map_at", "mrr", "auc", "ranking_users"})
    EXPECT_EQ(e[f], t[f]) << f;
  EXPECT_EQ(e["exclude_seen"], false);

  // Without each user's training items among the candidates no test item can
  // rank lower, so no figure can drop; on real data they rise. AUC does not
  // depend on the candidates.
  auto unseen = run_tandem("evaluate --json --threads 1 --exclude-seen --metrics-at 5,50 --model '" + model + "'");
  ASSERT_EQ(unseen.exit_code, 0) << unseen.err;
  const auto u = nlohmann::json::parse(unseen.out);
  EXPECT_EQ(u["exclude_seen"], true);
  EXPECT_GT(u["topk_accuracy"].get<double>(), e["topk_accuracy"].get<double>());
  EXPECT_GE(u["mrr"].get<double>(), e["mrr"].get<double>());
  EXPECT_EQ(u["auc"], e["auc"]);
  ASSERT_TRUE(u["recall_at"].contains("50")) << u.dump();
  EXPECT_FALSE(u["recall_at"].contains("10"));
  EXPECT_LE(u["recall_at"]["5"].get<double>(), u["recall_at"]["50"].get<double>());
  auto text = run_tandem("evaluate --threads 1 --model '" + model + "'");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("recall@100 "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("AUC "), std::string::npos) << text.out;

  auto rec = run_tandem("recommend --json --model '" + model + "' --user 5 --k 10");
  ASSERT_EQ(rec.exit_code, 0) << rec.err;
  const auto r = nlohmann::json::parse(rec.out);
  ASSERT_EQ(r["items"].size(), 10u);
  double last = 1e30;
  for (const auto& item : r["items"]) {
    EXPECT_FALSE(item["title"].get<std::string>().empty());
    const double stars = item["predicted_rating"].get<double>();
    EXPECT_LE(stars, last);  // ordered by predicted rating (retrieve, then rank)
    last = stars;
    EXPECT_GT(stars, -5.0);
    EXPECT_LT(stars, 10.0);
  }
  // Text output: one "title: stars" line per item after a header.
  auto rec_text = run_tandem("recommend --model '" + model + "' --user 5");
  ASSERT_EQ(rec_text.exit_code, 0);
  EXPECT_EQ(std::count(rec_text.out.begin(), rec_text.out.end(), '\n'), 11);
}

// A new user described by its own features (--feature), on a model trained
// with user side features: a real, ranked answer, and clear errors.
TEST_F(Cli, RecommendForANewUserFromItsFeatures) {
  TANDEM_REQUIRE_MOVIELENS();
  const std::string model = path("features.tandem");
  auto train = run_tandem("train --preset tfrs " + data_flag() +
                          " --epochs 1 --threads 1 --quiet --user-features age,occupation --item-features genres"
                          " --tower-layers 16 --output '" + model + "'");
  ASSERT_EQ(train.exit_code, 0) << train.err;
  auto rec = run_tandem("recommend --json --model '" + model +
                        "' --user 99999 --k 5 --candidates 50 --feature age=31 --feature occupation=engineer");
  ASSERT_EQ(rec.exit_code, 0) << rec.err;
  const auto j = nlohmann::json::parse(rec.out);
  EXPECT_EQ(j.at("cold_start"), true);
  EXPECT_EQ(j.at("from_features"), true);
  ASSERT_EQ(j.at("items").size(), 5u);
  EXPECT_TRUE(j.at("items")[0].at("predicted_rating").is_number());
  EXPECT_NE(rec.err.find("answering from its --feature values"), std::string::npos) << rec.err;
  auto text = run_tandem("recommend --model '" + model + "' --user 99999 --feature occupation=writer");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("Top 10 movies for the features of new user 99999"), std::string::npos) << text.out;
  auto bad = run_tandem("recommend --model '" + model + "' --user 99999 --feature shoe_size=9");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("unknown user feature 'shoe_size' (this model's: age, occupation)"),
            std::string::npos)
      << bad.err;
  auto malformed = run_tandem("recommend --model '" + model + "' --user 99999 --feature occupation");
  EXPECT_EQ(malformed.exit_code, 1);
  EXPECT_NE(malformed.err.find("must be NAME=VALUE"), std::string::npos) << malformed.err;
}

TEST_F(Cli, CompareJsonHasOneLinePerVariant) {
  TANDEM_REQUIRE_MOVIELENS();
  auto r = run_tandem("compare --preset tfrs " + data_flag() +
                      " --epochs 1 --train-count 20000 --test-count 5000 --json --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  std::vector<std::string> models;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    models.push_back(j["model"]);
    EXPECT_EQ(j["k"], 100);
    EXPECT_GE(j["topk_accuracy"].get<double>(), 0.0);
    EXPECT_GT(j["rmse"].get<double>(), 0.0);
    // The ranking metrics at the default K values, each a mean of values in
    // [0, 1], and recall growing with K.
    for (const char* metric : {"recall_at", "ndcg_at", "map_at"}) {
      ASSERT_EQ(j[metric].size(), 2u) << metric;
      for (const char* k : {"10", "100"}) {
        EXPECT_GE(j[metric][k].get<double>(), 0.0) << metric << k;
        EXPECT_LE(j[metric][k].get<double>(), 1.0) << metric << k;
      }
    }
    EXPECT_LE(j["recall_at"]["10"].get<double>(), j["recall_at"]["100"].get<double>());
    EXPECT_GT(j["ranking_users"].get<int>(), 0);
    for (const char* f : {"mrr", "auc"}) {
      EXPECT_GE(j[f].get<double>(), 0.0) << f;
      EXPECT_LE(j[f].get<double>(), 1.0) << f;
    }
    if (j["model"] == "popularity") {
      EXPECT_EQ(j["train_seconds"].get<double>(), 0.0);  // nothing is trained
    } else {
      EXPECT_GT(j["train_seconds"].get<double>(), 0.0);
    }
  }
  EXPECT_EQ(models, (std::vector<std::string>{"popularity", "rating", "retrieval", "joint"}));
}

// `data prepare --write-split` writes the split in u.data form, and training
// on those files explicitly reproduces the seeded run (that is what another
// implementation needs to train on the very same rows); the item key and
// the shuffle mode reach the JSON through their flags.
TEST_F(Cli, WrittenSplitRetrainsTheSameModelAndFlagsReachTheJson) {
  TANDEM_REQUIRE_MOVIELENS();
  const std::string split = path("split");
  fs::create_directories(split);
  auto prep = run_tandem("data prepare --preset kerasrs " + data_flag() + " --seed 2 --write-split '" + split + "'");
  ASSERT_EQ(prep.exit_code, 0) << prep.err;
  const auto lines_of = [](const std::string& file) {
    std::ifstream in(file);
    return static_cast<int64_t>(std::count(std::istreambuf_iterator<char>(in), {}, '\n'));
  };
  EXPECT_EQ(lines_of(split + "/train.data"), 80000);
  EXPECT_EQ(lines_of(split + "/test.data"), 20000);
  const std::string common = " --epochs 1 --threads 1 --json --quiet";
  auto seeded = run_tandem("train --preset kerasrs " + data_flag() + " --seed 2" + common);
  auto files = run_tandem("train --preset kerasrs " + data_flag() + " --seed 2 --train '" + split +
                          "/train.data' --test '" + split + "/test.data'" + common);
  ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
  ASSERT_EQ(files.exit_code, 0) << files.err;
  const auto a = nlohmann::json::parse(seeded.out), b = nlohmann::json::parse(files.out);
  EXPECT_EQ(a["topk_accuracy"], b["topk_accuracy"]);
  EXPECT_EQ(a["rmse"], b["rmse"]);

  // kerasrs with movies keyed by title needs vocabulary ids: a clear error.
  auto refused = run_tandem("train --preset kerasrs " + data_flag() + " --item-key title" + common);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("item_key = title needs vocabulary ids"), std::string::npos) << refused.err;
  // tfrs keyed by id: every movie its own row and candidate; the shuffle
  // mode is stored in the model's config.
  const std::string model = path("tfrs-id.tandem");
  auto by_id = run_tandem("train --preset tfrs " + data_flag() + " --item-key id --shuffle every-epoch" + common +
                          " --train-count 20000 --test-count 5000 --output '" + model + "'");
  ASSERT_EQ(by_id.exit_code, 0) << by_id.err;
  const auto j = nlohmann::json::parse(by_id.out);
  EXPECT_EQ(j["catalogue_items"], 1682);
  EXPECT_EQ(j["candidates"], 1682);
  auto printed = run_tandem("config --print --preset tfrs " + data_flag() + " --item-key id --shuffle every-epoch");
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  EXPECT_NE(printed.out.find("item_key = 'id'"), std::string::npos) << printed.out;
  EXPECT_NE(printed.out.find("shuffle = 'every-epoch'"), std::string::npos) << printed.out;
}

// The human-readable compare: the tutorials' table, then the ranking table,
// and the protocol named when seen items are excluded.
TEST_F(Cli, CompareTextHasARankingTable) {
  TANDEM_REQUIRE_MOVIELENS();
  auto r = run_tandem("compare --preset kerasrs " + data_flag() +
                      " --epochs 1 --train-count 5000 --test-count 2000 --exclude-seen "
                      "--metrics-at 20 --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto table = r.out.find("| Model                 | Recall@20 | NDCG@20 | MAP@20 |");
  ASSERT_NE(table, std::string::npos) << r.out;
  EXPECT_NE(r.out.find("seen items excluded"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| most-popular baseline |", table), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| multi-task            |", table), std::string::npos) << r.out;
}

TEST_F(Cli, ExplicitTrainTestFilesCountUnknownIds) {
  TANDEM_REQUIRE_MOVIELENS();
  // A train file and a test file with one unknown user and one unknown item.
  std::ifstream in(fs::path(movielens_dir()) / "u.data");
  std::ofstream train(path("train.tsv")), test(path("test.tsv"));
  std::string line;
  int n = 0;
  while (std::getline(in, line) && n < 30000) (n++ % 5 == 0 ? test : train) << line << "\n";
  test << "99999\t1\t4\t881250949\n";  // unknown user
  test << "1\t88888\t3\t881250949\n";  // unknown item
  train.close();
  test.close();
  for (const char* preset : {"kerasrs", "tfrs"}) {
    auto r = run_tandem(std::string("train --preset ") + preset + " " + data_flag() +
                        " --train '" + path("train.tsv") + "' --test '" + path("test.tsv") +
                        "' --epochs 1 --json --quiet");
    ASSERT_EQ(r.exit_code, 0) << preset << ": " << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["test"]["pairs"], 6002) << preset;
    EXPECT_GE(j["test"]["user_unseen_in_train"].get<int>(), 1) << preset;
    EXPECT_GE(j["test"]["item_unseen_in_train"].get<int>(), 1) << preset;
    if (std::string(preset) == "kerasrs") {
      // Integer ids: no row for ids beyond the table; skipped and counted.
      EXPECT_GE(j["test"]["skipped_unknown"].get<int>(), 2);
      EXPECT_EQ(j["test"]["mapped_to_oov"], 0);
    } else {
      // Vocabulary: unknown ids use the OOV row; evaluated and counted.
      EXPECT_EQ(j["test"]["skipped_unknown"], 0);
      EXPECT_GE(j["test"]["mapped_to_oov"].get<int>(), 2);
    }
  }
}

TEST_F(Cli, BadInputGivesClearErrorsNotCrashes) {
  TANDEM_REQUIRE_MOVIELENS();
  const std::string model = path("m.tandem");
  auto train = run_tandem("train --preset kerasrs " + data_flag() +
                          " --epochs 1 --train-count 5000 --test-count 1000 --quiet --output '" +
                          model + "'");
  ASSERT_EQ(train.exit_code, 0) << train.err;

  // An unknown user is the server's cold-start answer, flagged on stderr.
  auto unknown_user = run_tandem("recommend --json --model '" + model + "' --user 123456");
  EXPECT_EQ(unknown_user.exit_code, 0) << unknown_user.err;
  EXPECT_NE(unknown_user.err.find("user 123456"), std::string::npos) << unknown_user.err;
  const auto cold = nlohmann::json::parse(unknown_user.out);
  EXPECT_TRUE(cold["cold_start"].get<bool>());
  EXPECT_EQ(cold["items"].size(), 10u);
  EXPECT_TRUE(cold["items"][0]["predicted_rating"].is_null());
  // An integer id of 2e9 would make a 2e9-row table: refused up front, by name.
  {
    const std::string bad = path("huge_id.data");
    std::ofstream f(bad);
    f << "1\t1\t5\t881250949\n2000000000\t2\t3\t881250949\n3\t3\t4\t881250949\n";
  }
  auto huge = run_tandem("train --preset kerasrs --quiet --train '" + path("huge_id.data") +
                         "' --test '" + path("huge_id.data") + "' --k 2 " + data_flag() +
                         " --memory-budget 8G --output '" + path("never.tandem") + "'");
  EXPECT_EQ(huge.exit_code, 1) << huge.err;
  EXPECT_NE(huge.err.find("memory budget"), std::string::npos) << huge.err;
  EXPECT_NE(huge.err.find("user embedding table"), std::string::npos) << huge.err;
  EXPECT_NE(huge.err.find("stray large ids (" + path("huge_id.data") + ":2: user id 2000000000)"), std::string::npos)
      << huge.err;
  EXPECT_FALSE(fs::exists(path("never.tandem")));
  auto bad_budget = run_tandem("train --preset kerasrs --memory-budget lots " + data_flag() +
                               " --output '" + path("never.tandem") + "'");
  EXPECT_EQ(bad_budget.exit_code, 1);
  EXPECT_NE(bad_budget.err.find("memory size 'lots'"), std::string::npos) << bad_budget.err;
  auto big_k = run_tandem("train --preset kerasrs --quiet --k 5000 " + data_flag() +
                          " --output '" + path("never.tandem") + "'");
  EXPECT_EQ(big_k.exit_code, 1);
  EXPECT_NE(big_k.err.find("above the catalogue size (1682 items)"), std::string::npos) << big_k.err;

  auto bad_index = run_tandem("recommend --model '" + model + "' --user 5 --index ivf");
  EXPECT_NE(bad_index.exit_code, 0);
  EXPECT_NE(bad_index.err.find("--index"), std::string::npos) << bad_index.err;

  // Corrupt one byte in the middle: refused with the file named.
  {
    std::fstream f(model, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(model) / 2));
    f.put('\x5a');
  }
  auto corrupt = run_tandem("evaluate --model '" + model + "'");
  EXPECT_EQ(corrupt.exit_code, 1);
  EXPECT_NE(corrupt.err.find("m.tandem"), std::string::npos) << corrupt.err;
  EXPECT_NE(corrupt.err.find("corrupt"), std::string::npos) << corrupt.err;

  // Truncated file.
  fs::resize_file(model, 100);
  auto truncated = run_tandem("recommend --model '" + model + "' --user 5");
  EXPECT_EQ(truncated.exit_code, 1);
  EXPECT_NE(truncated.err.find("truncated"), std::string::npos) << truncated.err;

  // Malformed ratings file: names the file and line.
  {
    std::ofstream bad(path("bad.tsv"));
    bad << "1\t2\t3\t4\n1\t2\tx\t4\n";
  }
  auto bad = run_tandem("train --train '" + path("bad.tsv") + "' --test '" + path("bad.tsv") +
                        "' --quiet");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("bad.tsv:2"), std::string::npos) << bad.err;

  // Missing data directory: says where it looked.
  auto missing = run_tandem("compare --data '" + path("nowhere") + "' --quiet");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("nowhere"), std::string::npos) << missing.err;

  // Absurd sizes are refused before any allocation.
  auto absurd = run_tandem("train " + data_flag() + " --embedding-dim 100000000 --quiet");
  EXPECT_EQ(absurd.exit_code, 1);
  EXPECT_NE(absurd.err.find("--embedding-dim: must be in 1..4096"), std::string::npos) << absurd.err;

  // Unknown preset: CLI11 rejects it and lists the choices.
  auto preset = run_tandem("compare --preset nope");
  EXPECT_NE(preset.exit_code, 0);
  EXPECT_NE((preset.err + preset.out).find("kerasrs"), std::string::npos);
}

// A TOML experiment: the file's values, then flags on top; `config --print`
// shows the result; a bad file names the key and the line.
TEST_F(Cli, ConfigFileWithFlagOverrides) {
  TANDEM_REQUIRE_MOVIELENS();
  const char* src = std::getenv("TANDEM_SOURCE_DIR");
  const std::string example = (fs::path(src ? src : ".") / "examples" / "tfrs.toml").string();
  auto printed = run_tandem("config --print --config '" + example + "' --epochs 9 " + data_flag());
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  EXPECT_NE(printed.out.find("epochs = 9\n"), std::string::npos) << printed.out;
  EXPECT_NE(printed.out.find("batch_size = 8192\n"), std::string::npos) << printed.out;  // from the file

  const std::string cfg = path("small.toml");
  {
    std::ofstream f(cfg);
    f << "preset = \"kerasrs\"\n[split]\ntrain_count = 5000\ntest_count = 1000\n"
         "[training]\nepochs = 3\n[evaluation]\nk = 7\n";
  }
  auto train = run_tandem("train --config '" + cfg + "' --epochs 1 --json --quiet " + data_flag());
  ASSERT_EQ(train.exit_code, 0) << train.err;
  const auto t = nlohmann::json::parse(train.out);
  EXPECT_EQ(t["k"], 7);                    // from the file
  EXPECT_EQ(t["epochs"].size(), 1u);       // --epochs 1 beats the file's 3
  EXPECT_EQ(t["evaluated_pairs"], 1000);   // the file's split

  {
    std::ofstream f(cfg);
    f << "preset = \"kerasrs\"\n[training]\nepochs = 3\nbatchsize = 10\n";
  }
  auto bad = run_tandem("train --config '" + cfg + "' " + data_flag());
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("small.toml:4: unknown key 'training.batchsize'"), std::string::npos) << bad.err;
}

// On a terminal (a pseudo-terminal from util-linux `script`) training draws
// a bar redrawn in place; into a pipe it writes plain lines only; --quiet
// writes nothing; --json keeps progress off stdout.
TEST_F(Cli, ProgressBarOnATerminalPlainLinesOtherwise) {
  TANDEM_REQUIRE_MOVIELENS();
  const std::string args = "train --preset kerasrs --epochs 2 --train-count 20000 --test-count 2000 " + data_flag();
  auto piped = run_tandem(args);
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.err.find('\r'), std::string::npos);
  EXPECT_NE(piped.err.find("[custom] epoch 2/2: 20 steps"), std::string::npos) << piped.err;
  auto quiet = run_tandem(args + " --quiet --json");
  ASSERT_EQ(quiet.exit_code, 0);
  EXPECT_EQ(quiet.err, "");
  EXPECT_TRUE(nlohmann::json::accept(quiet.out)) << quiet.out;  // stdout is the JSON alone
  auto tty = run_tandem_on_terminal(args);
  ASSERT_EQ(tty.exit_code, 0) << tty.out;
  EXPECT_NE(tty.out.find("\r\033[K[custom] Epoch 1/2 "), std::string::npos) << tty.out;
  EXPECT_NE(tty.out.find("ETA"), std::string::npos) << tty.out;
  EXPECT_NE(tty.out.find("Epoch 2/2 20/20 [==============================]"), std::string::npos) << tty.out;
  EXPECT_NE(tty.out.find("Evaluating 2000/2000"), std::string::npos) << tty.out;
}

// Every subcommand's --help documents every option (no option without a
// description), and a mistyped subcommand is named with a suggestion.
TEST_F(Cli, HelpIsCompleteAndTyposAreSuggested) {
  auto top = run_tandem("--help");
  ASSERT_EQ(top.exit_code, 0);
  EXPECT_NE(top.out.find("Examples:"), std::string::npos);
  std::istringstream lines(top.out.substr(top.out.find("Subcommands:")));
  std::string line;
  std::vector<std::string> subs;
  std::getline(lines, line);
  while (std::getline(lines, line) && line.rfind("  ", 0) == 0) {
    std::istringstream words(line);
    std::string name, help;
    words >> name;
    std::getline(words, help);
    EXPECT_GT(help.size(), 10u) << "subcommand " << name << " has no description";
    subs.push_back(name);
  }
  EXPECT_GE(subs.size(), 9u);
  for (const auto& sub : subs) {
    auto h = run_tandem(sub + " --help");
    ASSERT_EQ(h.exit_code, 0) << sub;
    std::istringstream opt_lines(h.out);
    std::vector<std::string> all;
    while (std::getline(opt_lines, line)) all.push_back(line);
    for (size_t i = 0; i < all.size(); ++i) {
      const std::string& l = all[i];
      if (l.rfind("  -", 0) != 0) continue;  // an option line
      // The description follows on the same line after a gap, or on the next
      // line, indented further.
      const auto gap = l.find("  ", 2);
      const bool same_line = gap != std::string::npos && l.find_first_not_of(' ', gap) != std::string::npos;
      const bool next_line = i + 1 < all.size() && all[i + 1].rfind("      ", 0) == 0 &&
                             all[i + 1].find_first_not_of(' ') != std::string::npos;
      EXPECT_TRUE(same_line || next_line) << sub << ": option without a description: " << l;
    }
  }
  auto typo = run_tandem("trian --epochs 1");
  EXPECT_EQ(typo.exit_code, 1);
  EXPECT_NE(typo.err.find("unknown subcommand 'trian' (did you mean 'train'?)"), std::string::npos) << typo.err;
}

// Every error in the command line, CLI11's own (unknown option, value not a
// number or out of range, missing required option, unknown choice) or found
// after the parse (a setting flag's value, a flag that needs another), gives
// exactly: one line `tandem: error: ...` naming the option, the usage hint,
// exit code 1 (docs/bad-input.md). Help still exits 0.
TEST_F(Cli, ArgumentErrorsPrintOneErrorLineTheUsageHintAndExitOne) {
  struct Case {
    std::string args, named, command;
  };
  const std::vector<Case> cases = {
      {"train --bogus", "--bogus", "tandem train"},
      {"train --epochs 1e18", "--epochs", "tandem train"},
      {"train --epochs", "--epochs", "tandem train"},
      {"recommend --k abc --model m.tandem --user 5", "--k", "tandem recommend"},
      {"recommend --model m.tandem --user 5 --k 0", "--k", "tandem recommend"},
      {"recommend --user 5", "--model", "tandem recommend"},
      {"compare --preset nope", "--preset", "tandem compare"},
      {"train --memory-budget lots", "--memory-budget", "tandem train"},
      {"train --embedding-dim 100000000", "--embedding-dim", "tandem train"},
      {"train --checkpoint-every 3", "--checkpoint-every", "tandem train"},
      {"sweep --out x --weights 1:x", "", "tandem sweep"},
      {"data downlaod", "'downlaod' (did you mean 'download'?)", "tandem data"},
      {"trian --epochs 1", "'trian' (did you mean 'train'?)", "tandem"},
      {"", "subcommand", "tandem"},
  };
  for (const Case& c : cases) {
    const auto r = run_tandem(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args << "\n" << r.err;
    EXPECT_EQ(r.out, "") << c.args;
    std::istringstream lines(r.err);
    std::string first, second, rest;
    std::getline(lines, first);
    std::getline(lines, second);
    std::getline(lines, rest, '\0');
    EXPECT_EQ(first.rfind("tandem: error: ", 0), 0u) << c.args << ": " << r.err;
    EXPECT_NE(first.find(c.named), std::string::npos) << c.args << ": " << first;
    EXPECT_EQ(second, "Run '" + c.command + " --help' for more information.") << c.args;
    EXPECT_EQ(rest, "") << c.args;
  }
  for (const std::string help : {"--help", "train --help", "data download --help"}) {
    const auto h = run_tandem(help);
    EXPECT_EQ(h.exit_code, 0) << help << "\n" << h.err;
    EXPECT_NE(h.out.find("Usage:"), std::string::npos) << help;
  }
}

// `--model /dev/zero` once read forever (400 MB/s, until memory ran out).
// Devices, FIFOs and directories where a file is expected are refused by
// name at once; each run is killed should it pass 5 s, so a regression
// fails here rather than hanging the suite. (The bar is 2 s; a refusal
// takes about 0.1 s, but this is no timing test.)
TEST_F(Cli, DevicesFifosAndDirectoriesAsInputFilesAreRefusedAtOnce) {
  ASSERT_EQ(::mkfifo(path("model.fifo").c_str(), 0600), 0);
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"recommend", "--model", "/dev/zero", "--user", "5"},
       "/dev/zero: cannot read model file: not a regular file (a character device)"},
      {{"recommend", "--model", "/dev/urandom", "--user", "5"},
       "/dev/urandom: cannot read model file: not a regular file (a character device)"},
      {{"evaluate", "--model", "/dev/zero"}, "/dev/zero: cannot read model file: not a regular file"},
      {{"serve", "--model", "/dev/zero", "--port", "0"}, "/dev/zero: cannot read model file: not a regular file"},
      {{"recommend", "--model", path("model.fifo"), "--user", "5"},
       path("model.fifo") + ": cannot read model file: not a regular file (a FIFO)"},
      {{"recommend", "--model", dir_.string(), "--user", "5"},
       dir_.string() + ": cannot read model file: not a regular file (a directory)"},
      {{"train", "--config", "/dev/zero"}, "/dev/zero: cannot read config file: not a regular file"},
      {{"train", "--train", path("model.fifo"), "--test", path("model.fifo"), "--quiet"},
       path("model.fifo") + ": cannot read ratings file: not a regular file (a FIFO)"},
  };
  for (const Case& c : cases) {
    const auto r = run_tandem_within(c.args, 5.0);
    const std::string shown = c.args[0] + " " + c.args[1] + " " + c.args[2];
    ASSERT_TRUE(r.finished) << shown << ": still running after 5 s";
    EXPECT_EQ(r.exit_code, 1) << shown << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("tandem: error: " + c.message, 0), 0u) << shown << ": " << r.err;
    RecordProperty(c.args[0] + "_" + c.args[2] + "_seconds", std::to_string(r.seconds));
  }
}

// An output or checkpoint location that cannot be written is refused before
// the data is loaded or a step is trained (it used to fail after the first
// epoch): no epoch line appears, and the message names the path and why.
TEST_F(Cli, UnwritableOutputsAreRefusedBeforeTraining) {
  TANDEM_REQUIRE_MOVIELENS();
  { std::ofstream(path("plain")) << "a file, not a directory"; }
  struct Case {
    std::string args, message;
  };
  const std::vector<Case> cases = {
      {"train --epochs 1 --output /nonexistent-dir/m.tandem",
       "--output /nonexistent-dir/m.tandem: cannot write there: no such directory /nonexistent-dir"},
      {"train --epochs 1 --output '" + path("plain/m.tandem") + "'",
       "--output " + path("plain/m.tandem") + ": cannot write there: " + path("plain") +
           " is not a directory (a regular file)"},
      {"train --epochs 1 --output '" + dir_.string() + "'",
       "--output " + dir_.string() + ": cannot write there: it is a directory, not a regular file"},
      {"train --epochs 1 --checkpoint-dir '" + path("plain/ck") + "'",
       "--checkpoint-dir " + path("plain/ck") + ": cannot write there: " + path("plain") +
           " is not a directory (a regular file)"},
      {"compare --epochs 1 --output-dir '" + path("plain/models") + "'",
       "--output-dir " + path("plain/models") + ": cannot write there: " + path("plain") +
           " is not a directory (a regular file)"},
      {"sweep --epochs 1 --weights 1:1 --out '" + path("plain/run") + "'",
       "--out " + path("plain/run") + ": cannot write there: " + path("plain") +
           " is not a directory (a regular file)"},
  };
  for (const Case& c : cases) {
    const auto r = run_tandem(c.args + " " + data_flag());
    EXPECT_EQ(r.exit_code, 1) << c.args << "\n" << r.err;
    EXPECT_EQ(r.err, "tandem: error: " + c.message + "\n") << c.args;
    EXPECT_EQ(r.err.find("epoch"), std::string::npos) << c.args << ": trained before refusing";
  }
  std::ifstream plain(path("plain"));
  std::string kept;
  std::getline(plain, kept);
  EXPECT_EQ(kept, "a file, not a directory");  // refused, never replaced
}

TEST_F(Cli, SweepThenReport) {
  TANDEM_REQUIRE_MOVIELENS();
  const std::string run = path("sweep");
  auto sweep = run_tandem("sweep --preset tfrs " + data_flag() +
                          " --weights '1:0, 1:1 ,0:1' --epochs 1 --train-count 10000 --test-count 2000 "
                          "--quiet --out '" + run + "'");
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  // The table: one row per pair, in the given order, with a Pareto column.
  EXPECT_NE(sweep.out.find("| Weights (rank:retr)   | Top-100 accuracy (↑) |"), std::string::npos) << sweep.out;
  EXPECT_NE(sweep.out.find("| Pareto |"), std::string::npos) << sweep.out;
  const size_t a = sweep.out.find("| 1:0 "), b = sweep.out.find("| 1:1 "), c = sweep.out.find("| 0:1 ");
  EXPECT_TRUE(a != std::string::npos && a < b && b < c && c != std::string::npos) << sweep.out;
  EXPECT_NE(sweep.out.find("Pareto front (by RMSE): "), std::string::npos);
  for (const char* f : {"run.json", "models/ranking1_retrieval0.tandem", "models/ranking1_retrieval1.tandem",
                        "models/ranking0_retrieval1.tandem"})
    EXPECT_TRUE(fs::exists(fs::path(run) / f)) << f;

  // Any saved variant is an ordinary model file.
  auto rec = run_tandem("recommend --model '" + run + "/models/ranking1_retrieval1.tandem' --user 5 --k 3");
  EXPECT_EQ(rec.exit_code, 0) << rec.err;

  // The report lands in RUN_DIR/report.html by default; --model picks the variant.
  auto report = run_tandem("report '" + run + "' --model 1:0 --users 5");
  ASSERT_EQ(report.exit_code, 0) << report.err;
  EXPECT_NE(report.out.find("recommendations from 1:0"), std::string::npos) << report.out;
  std::ifstream in(fs::path(run) / "report.html");
  const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(html.find("data-chart=\"pareto\""), std::string::npos);
  EXPECT_NE(html.find("data-user=\"5\""), std::string::npos);

  // A run directory is never overwritten.
  auto again = run_tandem("sweep " + data_flag() + " --weights 1:1 --quiet --out '" + run + "'");
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
}

TEST_F(Cli, SweepAndReportErrorsNameTheProblem) {
  // --weights is checked before any data is read or model trained.
  auto bad = run_tandem("sweep --weights '1:1,0.3;1' --out '" + path("never") + "'");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("--weights entry 2 ('0.3;1')"), std::string::npos) << bad.err;
  auto zero = run_tandem("sweep --weights '1:1,0:0' --out '" + path("never") + "'");
  EXPECT_EQ(zero.exit_code, 1);
  EXPECT_NE(zero.err.find("entry 2 ('0:0'): both weights are 0"), std::string::npos) << zero.err;
  EXPECT_FALSE(fs::exists(path("never")));
  auto no_out = run_tandem("sweep --weights 1:1");
  EXPECT_NE(no_out.exit_code, 0);
  EXPECT_NE((no_out.err + no_out.out).find("--out"), std::string::npos);

  auto missing = run_tandem("report '" + path("nowhere") + "'");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("nowhere: no such directory"), std::string::npos) << missing.err;
  fs::create_directories(path("empty"));
  auto empty = run_tandem("report '" + path("empty") + "'");
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_NE(empty.err.find("neither a sweep"), std::string::npos) << empty.err;
}

TEST_F(Cli, BenchReportsEvaluationThroughputAndSoftmaxMemory) {
  auto r = run_tandem("bench --only eval softmax --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  std::map<std::string, nlohmann::json> rows;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    rows[j["kind"]] = j;
  }
  ASSERT_TRUE(rows.count("machine") && rows.count("evaluation") && rows.count("softmax_memory"));
  EXPECT_GT(rows["machine"]["sgemm_2048_gflops_all_threads"].get<double>(), 0.0);
  EXPECT_GT(rows["evaluation"]["factorized_topk_queries_per_second"].get<double>(), 0.0);
  const auto& m = rows["softmax_memory"];
  // The full 8192 x 8192 score matrix alone is 256 MiB; the blocked kernel
  // never holds it.
  EXPECT_GT(m["reference_peak_rss_mb"].get<double>() - m["baseline_rss_mb"].get<double>(), 200.0);
  EXPECT_LT(m["blocked_peak_rss_mb"].get<double>() - m["baseline_rss_mb"].get<double>(), 64.0);
  EXPECT_LT(m["loss_difference"].get<double>(), 1e-3);
}

// `data prepare --output` writes a store; `train --prepared` trains from it
// without --data (the kerasrs preset, unshuffled, gives the in-memory run's
// metrics), `--resume` finds the store through the checkpoint and ends
// where the uninterrupted run did, and a damaged store is refused naming
// the file.
TEST_F(Cli, PreparedStoreTrainsResumesAndIsChecked) {
  TANDEM_REQUIRE_MOVIELENS();
  const std::string common = " --epochs 1 --threads 1 --json --quiet --train-count 8000 --test-count 2000";
  const std::string store = path("store"), tfrs_store = path("tfrs-store");
  auto prep = run_tandem("data prepare --preset kerasrs " + data_flag() + common.substr(common.find(" --train")) +
                         " --output '" + store + "' --json");
  ASSERT_EQ(prep.exit_code, 0) << prep.err;
  EXPECT_EQ(nlohmann::json::parse(prep.out)["store"], store);
  auto mem = run_tandem("train --preset kerasrs " + data_flag() + common);
  auto disk = run_tandem("train --preset kerasrs --prepared '" + store + "'" + common);
  ASSERT_EQ(mem.exit_code, 0) << mem.err;
  ASSERT_EQ(disk.exit_code, 0) << disk.err;
  EXPECT_EQ(nlohmann::json::parse(mem.out)["topk_accuracy"], nlohmann::json::parse(disk.out)["topk_accuracy"]);
  EXPECT_EQ(nlohmann::json::parse(mem.out)["rmse"], nlohmann::json::parse(disk.out)["rmse"]);

  // tfrs (block-shuffled once), 2 epochs of 8 steps, checkpointed every 5; resumed from step 15.
  prep = run_tandem("data prepare --preset tfrs " + data_flag() + " --train-count 8000 --test-count 2000 --output '" +
                    tfrs_store + "'");
  ASSERT_EQ(prep.exit_code, 0) << prep.err;
  const std::string flags = " --preset tfrs --batch-size 1000 --epochs 2 --threads 1 --json --quiet --stream-block-rows 500 "
                            "--stream-window-blocks 3 --prepared '" + tfrs_store + "'";
  const std::string ck = path("ck"), one = path("one");
  auto full = run_tandem("train" + flags + " --checkpoint-dir '" + ck + "' --checkpoint-every 5");
  ASSERT_EQ(full.exit_code, 0) << full.err;
  fs::create_directories(one);
  // The writer keeps the newest two: steps 15 and 16 (the final one).
  fs::copy_file(ck + "/ckpt-000000015.tandem-ckpt", one + "/ckpt-000000015.tandem-ckpt");
  auto resumed = run_tandem("train --resume '" + one + "' --json --quiet");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const auto a = nlohmann::json::parse(full.out), b = nlohmann::json::parse(resumed.out);
  EXPECT_EQ(b["resumed_at_step"], 15);
  EXPECT_EQ(a["topk_accuracy"], b["topk_accuracy"]);
  EXPECT_EQ(a["rmse"], b["rmse"]);
  EXPECT_EQ(a["epochs"].back()["total_loss"], b["epochs"].back()["total_loss"]);

  {
    std::fstream f(store + "/train.users.i32", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3);
    f.put('\x55');
  }
  auto bad = run_tandem("train --preset kerasrs --prepared '" + store + "'" + common);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find(store + "/train.users.i32: checksum mismatch"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace tandem::testing
