// `tandem serve` as a real process on an ephemeral loopback port: it logs a
// ready line, answers exactly what `tandem recommend --json` prints for the
// same model, user and index (cold start included), and stops cleanly on
// SIGTERM and SIGINT.
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "e2e_util.h"
#include "server_process.h"

namespace tandem::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

class ServeProcess : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("tandem_serve_e2e_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    model_ = (dir_ / "m.tandem").string();
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static fs::path dir_;
  static std::string model_;
};
fs::path ServeProcess::dir_;
std::string ServeProcess::model_;

TEST_F(ServeProcess, ServerAndCliGiveIdenticalListsThenStopCleanly) {
  TANDEM_REQUIRE_MOVIELENS();
  auto train = run_tandem("train --preset kerasrs --data '" + movielens_dir() +
                          "' --epochs 2 --quiet --output '" + model_ + "'");
  ASSERT_EQ(train.exit_code, 0) << train.err;

  for (const std::string index : {"exact", "hnsw"}) {
    ServerProcess server({"--model", model_, "--port", "0", "--threads", "4", "--index", index});
    ASSERT_GT(server.port(), 0) << server.log();
    EXPECT_NE(server.log().find(index + " index"), std::string::npos) << server.log();
    httplib::Client client("127.0.0.1", server.port());
    client.set_read_timeout(10);
    // Known users (first, middle, last id of ML-100K) and one unknown (cold start).
    for (const int user : {1, 5, 471, 943, 424242}) {
      for (const bool exclude : {false, true}) {
        const json request = {{"user_id", std::to_string(user)},
                              {"k", 10},
                              {"candidates", 100},
                              {"exclude_seen", exclude}};
        auto res = client.Post("/v1/recommend", request.dump(), "application/json");
        ASSERT_TRUE(res) << "no reply for user " << user;
        ASSERT_EQ(res->status, 200) << res->body;
        const json served = json::parse(res->body);
        auto cli = run_tandem("recommend --json --model '" + model_ + "' --user " +
                              std::to_string(user) + " --k 10 --candidates 100 --index " + index +
                              (exclude ? " --exclude-seen" : ""));
        ASSERT_EQ(cli.exit_code, 0) << cli.err;
        const json printed = json::parse(cli.out);
        EXPECT_EQ(served["items"], printed["items"]) << index << " user " << user;
        EXPECT_EQ(served["cold_start"], printed["cold_start"]);
        EXPECT_EQ(served["cold_start"].get<bool>(), user == 424242);
        EXPECT_EQ(served["index"], user == 424242 ? "popularity" : index);
        EXPECT_EQ(served["items"].size(), 10u);
      }
    }
    auto model_info = client.Get("/v1/model");
    ASSERT_TRUE(model_info);
    EXPECT_EQ(json::parse(model_info->body)["index"]["kind"], index);
    // SIGTERM for one server, SIGINT for the other: both exit 0.
    EXPECT_EQ(server.stop(index == "exact" ? SIGTERM : SIGINT), 0) << server.log();
    EXPECT_NE(server.log().find("stopped"), std::string::npos) << server.log();
  }
}

// The index's recall on MovieLens-100K at its default settings (the bar is
// >= 0.99 at k = 10), and a depth sweep over one graph on a synthetic set.
TEST_F(ServeProcess, IndexEvalRecallOnMovieLens) {
  TANDEM_REQUIRE_MOVIELENS();
  const std::string model = (dir_ / "ie.tandem").string();
  auto train = run_tandem("train --preset kerasrs --data '" + movielens_dir() + "' --quiet --output '" +
                          model + "'");
  ASSERT_EQ(train.exit_code, 0) << train.err;
  auto eval = run_tandem("index-eval --json --model '" + model + "'");
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  const json r = json::parse(eval.out);
  EXPECT_EQ(r["items"], 1682);
  EXPECT_EQ(r["queries"], 943);
  EXPECT_EQ(r["k"], 10);
  EXPECT_GE(r["recall_at_k"].get<double>(), 0.99);

  auto sweep = run_tandem("index-eval --json --synthetic-items 20000 --queries 200 --ef-search 4,400");
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  std::istringstream lines(sweep.out);
  std::string line;
  std::vector<double> recalls;
  while (std::getline(lines, line)) recalls.push_back(json::parse(line)["recall_at_k"].get<double>());
  ASSERT_EQ(recalls.size(), 2u);
  EXPECT_GT(recalls[0], 0.0);
  EXPECT_LT(recalls[0], recalls[1]);  // a shallow search really is approximate
  EXPECT_GE(recalls[1], 0.95);
}

// `tandem index build` saves the graph serve would build; recommend and serve
// load it with --index-file and answer exactly as with the graph built in
// memory (the build is sequential and seeded, so it is the same graph), and a
// model retrained with another seed is refused. Synthetic data: no MovieLens
// needed.
TEST_F(ServeProcess, SavedIndexAnswersAsTheBuiltGraphAndOnlyForItsModel) {
  const fs::path data = dir_ / "synth";
  fs::create_directories(data);
  auto synth = run_tandem("synth --users 300 --items 3000 --interactions 20000 --item-zipf 0.3 "
                          "--output '" + (data / "u.data").string() + "'");
  ASSERT_EQ(synth.exit_code, 0) << synth.err;
  const std::string m1 = (dir_ / "s1.tandem").string(), m2 = (dir_ / "s2.tandem").string();
  for (const auto& [model, seed] : {std::pair{m1, 1}, std::pair{m2, 2}}) {
    auto train = run_tandem("train --preset kerasrs --data '" + data.string() +
                            "' --train-count 16000 --test-count 4000 --epochs 1 --quiet --seed " +
                            std::to_string(seed) + " --output '" + model + "'");
    ASSERT_EQ(train.exit_code, 0) << train.err;
  }
  const std::string idx = (dir_ / "s1.hnsw").string();
  auto build = run_tandem("index build --json --model '" + m1 + "' --output '" + idx +
                          "' --hnsw-m 8 --hnsw-ef-construction 64");
  ASSERT_EQ(build.exit_code, 0) << build.err;
  const json built = json::parse(build.out);
  EXPECT_GT(built["items"].get<int64_t>(), 1000);
  EXPECT_EQ(built["bytes"].get<int64_t>(), static_cast<int64_t>(fs::file_size(idx)));
  EXPECT_EQ(built["hnsw"]["M"], 8);

  const std::string graph = " --index hnsw --hnsw-m 8 --hnsw-ef-construction 64";
  for (const int user : {1, 77, 300}) {
    for (const std::string extra : {"", " --exclude-seen", " --ef-search 12"}) {
      const std::string ask = "recommend --json --model '" + m1 + "' --user " +
                              std::to_string(user) + " --k 10 --candidates 50" + extra + graph;
      auto in_memory = run_tandem(ask);
      auto loaded = run_tandem(ask + " --index-file '" + idx + "'");
      ASSERT_EQ(in_memory.exit_code, 0) << in_memory.err;
      ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
      const json a = json::parse(in_memory.out), b = json::parse(loaded.out);
      EXPECT_EQ(a["items"], b["items"]) << "user " << user << extra;
      EXPECT_EQ(b["index"], "hnsw");
      EXPECT_EQ(b["items"].size(), 10u);
    }
  }

  // The server loads it too, and says so.
  ServerProcess server({"--model", m1, "--port", "0", "--threads", "2", "--index", "hnsw",
                        "--index-file", idx});
  ASSERT_GT(server.port(), 0) << server.log();
  EXPECT_NE(server.log().find("hnsw index loaded from " + idx), std::string::npos) << server.log();
  httplib::Client client("127.0.0.1", server.port());
  client.set_read_timeout(10);
  auto info = client.Get("/v1/model");
  ASSERT_TRUE(info);
  const json index = json::parse(info->body)["index"];
  EXPECT_EQ(index["source"], "file");
  EXPECT_EQ(index["file"], idx);
  EXPECT_GE(index["load_seconds"].get<double>(), 0.0);
  EXPECT_EQ(index["hnsw"]["M"], 8);  // the file's, not the flag's default
  const json request = {{"user_id", "77"}, {"k", 10}, {"candidates", 50}};
  auto res = client.Post("/v1/recommend", request.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  auto cli = run_tandem("recommend --json --model '" + m1 + "' --user 77 --k 10 --candidates 50" +
                        graph);
  EXPECT_EQ(json::parse(res->body)["items"], json::parse(cli.out)["items"]);
  EXPECT_EQ(server.stop(SIGTERM), 0) << server.log();

  // Another seed, another model: refused, with the way out.
  auto other = run_tandem("recommend --model '" + m2 + "' --user 1 --index hnsw --index-file '" +
                          idx + "'");
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_NE(other.err.find(idx + ": this HNSW index belongs to another model"), std::string::npos)
      << other.err;
  EXPECT_NE(other.err.find("tandem index build"), std::string::npos) << other.err;
  ServerProcess refused({"--model", m2, "--port", "0", "--index", "hnsw", "--index-file", idx});
  EXPECT_LT(refused.port(), 0);
  EXPECT_NE(refused.log().find("belongs to another model"), std::string::npos) << refused.log();

  // --index-file without --index hnsw.
  auto exact = run_tandem("recommend --model '" + m1 + "' --user 1 --index-file '" + idx + "'");
  EXPECT_EQ(exact.exit_code, 1);
  EXPECT_NE(exact.err.find("needs --index hnsw"), std::string::npos) << exact.err;

  // A truncated copy, and the model file itself given as an index.
  const std::string cut = (dir_ / "cut.hnsw").string();
  fs::copy_file(idx, cut);
  fs::resize_file(cut, fs::file_size(idx) - 1000);
  auto truncated = run_tandem("recommend --model '" + m1 + "' --user 1 --index hnsw --index-file '" +
                              cut + "'");
  EXPECT_EQ(truncated.exit_code, 1);
  EXPECT_NE(truncated.err.find(cut + ": truncated index file"), std::string::npos) << truncated.err;
  auto not_index = run_tandem("recommend --model '" + m1 + "' --user 1 --index hnsw --index-file '" +
                              m1 + "'");
  EXPECT_EQ(not_index.exit_code, 1);
  EXPECT_NE(not_index.err.find("not a Tandem HNSW index file"), std::string::npos) << not_index.err;
}

TEST_F(ServeProcess, BadStartsAreClearErrors) {
  ServerProcess missing({"--model", (dir_ / "absent.tandem").string(), "--port", "0"});
  EXPECT_LT(missing.port(), 0);
  EXPECT_NE(missing.log().find("absent.tandem"), std::string::npos) << missing.log();
  ServerProcess bad_index({"--model", model_, "--port", "0", "--index", "ivf"});
  EXPECT_LT(bad_index.port(), 0);
  EXPECT_NE(bad_index.log().find("--index"), std::string::npos) << bad_index.log();
}

}  // namespace
}  // namespace tandem::testing
