// tandem train under mpirun (Open MPI): N ranks train the model one process
// trains, rank 0 writes an ordinary model file, and a job with a rank killed
// mid-run resumes from its last complete checkpoint to the same model.
// Runs as root only with Open MPI's allow-run-as-root (CI), oversubscribed
// on a machine with fewer cores than ranks.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "e2e_util.h"
#include "same_model_file.h"

namespace tandem::testing {
namespace {

namespace fs = std::filesystem;

std::string mpirun(int ranks) {
  return "mpirun --allow-run-as-root --oversubscribe -np " + std::to_string(ranks) + " ";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class MpiTraining : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tandem_e2e_mpi_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  nlohmann::json train(const std::string& launcher, const std::string& flags, const std::string& output) {
    const auto r = run_command(launcher + tandem_binary() + " train " + flags + " --data '" + movielens_dir() +
                               "' --json --quiet --output '" + output + "'");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (r.exit_code != 0) return {};
    return nlohmann::json::parse(r.out);
  }

  nlohmann::json evaluate(const std::string& model) {
    const auto r = run_tandem("evaluate --model '" + model + "' --json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (r.exit_code != 0) return {};
    return nlohmann::json::parse(r.out);
  }

  // Per-epoch losses of a run on several ranks against one process.
  void expect_same_losses(const nlohmann::json& one, const nlohmann::json& many) {
    ASSERT_EQ(one["epochs"].size(), many["epochs"].size());
    for (size_t e = 0; e < one["epochs"].size(); ++e) {
      for (const char* loss : {"ranking_loss", "retrieval_loss", "total_loss"}) {
        const double a = one["epochs"][e][loss].get<double>(), b = many["epochs"][e][loss].get<double>();
        EXPECT_NEAR(b, a, 1e-3 * std::abs(a)) << loss << ", epoch " << e + 1;
      }
    }
  }

  void check_preset(const std::string& preset, bool kerasrs_bar) {
    const std::string flags = "--preset " + preset + " --seed 7 --epochs 2 --threads 1";
    const nlohmann::json one = train("", flags, path("one.tandem"));
    ASSERT_FALSE(one.is_null());
    EXPECT_EQ(one["world_size"], 1);
    const nlohmann::json one_eval = evaluate(path("one.tandem"));
    for (int ranks : {2, 3}) {
      SCOPED_TRACE(preset + " on " + std::to_string(ranks) + " ranks");
      const std::string model = path("np" + std::to_string(ranks) + ".tandem");
      const nlohmann::json many = train(mpirun(ranks), flags, model);
      ASSERT_FALSE(many.is_null());
      EXPECT_EQ(many["world_size"], ranks);
      ASSERT_EQ(many["distributed"]["ranks"].size(), static_cast<size_t>(ranks));
      expect_same_losses(one, many);
      // Each rank holds about 1/N of the tables.
      const double alone = many["distributed"]["ranks"][0]["table_and_optimizer_mb"].get<double>() * ranks;
      for (const auto& r : many["distributed"]["ranks"])
        EXPECT_NEAR(r["table_and_optimizer_mb"].get<double>() * ranks, alone, 0.02 * alone);
      // One ordinary model file, which evaluate reads as any other; the
      // ranks' own evaluation (each scoring the catalogue rows it holds)
      // gives what one process gives on that file.
      const nlohmann::json e = evaluate(model);
      ASSERT_FALSE(e.is_null());
      for (const char* metric : {"topk_accuracy", "accuracy_at", "recall_at", "ndcg_at", "map_at", "mrr", "rmse",
                                 "auc", "evaluated_pairs"})
        EXPECT_EQ(many[metric], e[metric]) << metric;
      EXPECT_NEAR(e["topk_accuracy"].get<double>(), one_eval["topk_accuracy"].get<double>(), 0.005);
      EXPECT_NEAR(e["rmse"].get<double>(), one_eval["rmse"].get<double>(), 0.005);
      if (kerasrs_bar) {
        EXPECT_GE(e["topk_accuracy"].get<double>(), 0.0175);
        EXPECT_LE(e["rmse"].get<double>(), 0.265);
      }
    }
  }

  fs::path dir_;
};

TEST_F(MpiTraining, KerasRsOnTwoAndThreeRanksTrainsTheOneProcessModel) {
  TANDEM_REQUIRE_MOVIELENS();
  check_preset("kerasrs", true);
}

TEST_F(MpiTraining, TfrsOnTwoAndThreeRanksTrainsTheOneProcessModel) {
  TANDEM_REQUIRE_MOVIELENS();
  check_preset("tfrs", false);
}

TEST_F(MpiTraining, StoreOnTwoRanksTrainsTheOneProcessModel) {
  TANDEM_REQUIRE_MOVIELENS();
  // Each rank streams its strided part of the store's rows, block-shuffled
  // every epoch (blocks of 4096 rows, so that 80k rows make 20 of them).
  const std::string store = path("store");
  const auto prep = run_tandem("data prepare --preset kerasrs --data '" + movielens_dir() + "' --output '" + store +
                               "' --quiet");
  ASSERT_EQ(prep.exit_code, 0) << prep.err;
  const std::string flags = "--prepared '" + store +
                            "' --preset kerasrs --seed 7 --epochs 2 --threads 1 --shuffle every-epoch "
                            "--stream-block-rows 4096 --json --quiet --output ";
  const auto one = run_tandem("train " + flags + "'" + path("one.tandem") + "'");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const auto two = run_command(mpirun(2) + tandem_binary() + " train " + flags + "'" + path("two.tandem") + "'");
  ASSERT_EQ(two.exit_code, 0) << two.err;
  const auto a = nlohmann::json::parse(one.out), b = nlohmann::json::parse(two.out);
  EXPECT_EQ(b["world_size"], 2);
  expect_same_losses(a, b);
  const nlohmann::json e = evaluate(path("two.tandem"));
  EXPECT_GE(e["topk_accuracy"].get<double>(), 0.0175);
  EXPECT_LE(e["rmse"].get<double>(), 0.265);
}

TEST_F(MpiTraining, RanksWithDifferentDataStopTheJob) {
  TANDEM_REQUIRE_MOVIELENS();
  // Rank 1 reads a copy of the ratings without its last line.
  const fs::path other = dir_ / "other";
  fs::create_directories(other);
  {
    std::ifstream in(fs::path(movielens_dir()) / "u.data");
    std::ofstream out(other / "u.data");
    std::string line;
    for (int i = 0; i < 99999 && std::getline(in, line); ++i) out << line << '\n';
  }
  const std::string script = path("rank.sh");
  std::ofstream(script) << "#!/bin/sh\nif [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; then d='" << other.string()
                        << "'; else d='" << movielens_dir() << "'; fi\nexec '" << tandem_binary()
                        << "' train --preset kerasrs --epochs 1 --train-count 80000 --test-count 19000 --quiet "
                           "--data \"$d\"\n";
  fs::permissions(script, fs::perms::owner_all);
  const auto r = run_command(mpirun(2) + "'" + script + "'");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("rank 1's data differs from rank 0's"), std::string::npos) << r.err;
}

// The pid of rank `rank` of the job whose command line names `marker`.
pid_t find_rank(int rank, const std::string& marker) {
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = read_file((entry.path() / "cmdline").string());
    std::string environ = read_file((entry.path() / "environ").string());
    for (char& c : cmdline) c = c == '\0' ? ' ' : c;
    if (cmdline.find(marker) == std::string::npos || cmdline.find("mpirun") != std::string::npos) continue;
    const std::string want = "OMPI_COMM_WORLD_RANK=" + std::to_string(rank);
    // One NUL-separated entry of the environment: inside, or the last one.
    const bool has = environ.find(want + '\0') != std::string::npos ||
                     (environ.size() >= want.size() &&
                      environ.compare(environ.size() - want.size(), want.size(), want) == 0);
    if (has)
      return static_cast<pid_t>(std::stol(name));
  }
  return -1;
}

int64_t manifest_step(const fs::path& dir) {
  std::ifstream in(dir / "ranks.json");
  if (!in) return -1;
  std::stringstream s;
  s << in.rdbuf();
  try {
    return nlohmann::json::parse(s.str())["global_step"].get<int64_t>();
  } catch (...) {
    return -1;
  }
}

TEST_F(MpiTraining, KilledRankResumesToTheUninterruptedModel) {
  TANDEM_REQUIRE_MOVIELENS();
  // kerasrs: 3 epochs of 80 steps on two ranks, checkpointed every 5 steps.
  const std::string flags = "--preset kerasrs --seed 3 --epochs 3 --threads 1";
  ASSERT_FALSE(train(mpirun(2), flags, path("ref.tandem")).is_null());

  const fs::path ck = dir_ / "ck";
  const std::string command = mpirun(2) + tandem_binary() + " train " + flags + " --data '" + movielens_dir() +
                              "' --quiet --checkpoint-every 5 --checkpoint-dir '" + ck.string() +
                              "' --output '" + path("resumed.tandem") + "' > '" + path("bg.out") + "' 2> '" +
                              path("bg.err") + "'";
  const pid_t job = ::fork();
  ASSERT_GE(job, 0);
  if (job == 0) {
    ::execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  bool reaped = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (manifest_step(ck) < 10 && std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(job, &status, WNOHANG) == job) {
      reaped = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_FALSE(reaped) << "the job ended before it was killed: " << read_file(path("bg.err"));
  const pid_t victim = find_rank(1, ck.string());
  ASSERT_GT(victim, 0) << "rank 1's process was not found";
  ::kill(victim, SIGKILL);
  // The job ends: mpirun sees a rank die and stops the others.
  ::waitpid(job, &status, 0);
  EXPECT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the job finished despite the kill";
  const int64_t step = manifest_step(ck);
  RecordProperty("killed_after_step", std::to_string(step));
  ASSERT_GE(step, 10);
  ASSERT_LT(step, 240) << "the job completed before the kill";
  EXPECT_FALSE(fs::exists(path("resumed.tandem")));

  // Another rank count is refused, with how to resume.
  const auto wrong = run_command(mpirun(3) + tandem_binary() + " train --resume '" + ck.string() + "' --quiet");
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("checkpointed by 2 ranks"), std::string::npos) << wrong.err;
  const auto alone = run_tandem("train --resume '" + ck.string() + "' --quiet");
  EXPECT_NE(alone.exit_code, 0);
  EXPECT_NE(alone.err.find("mpirun -np 2"), std::string::npos) << alone.err;

  const auto done = run_command(mpirun(2) + tandem_binary() + " train --resume '" + ck.string() + "' --json --quiet");
  ASSERT_EQ(done.exit_code, 0) << done.err;
  const auto j = nlohmann::json::parse(done.out);
  EXPECT_EQ(j["resumed_at_step"].get<int64_t>(), step);
  EXPECT_EQ(j["world_size"], 2);
  // The same model, bit for bit, hence the same evaluation.
  expect_same_model_file(path("ref.tandem"), path("resumed.tandem"));
  const nlohmann::json a = evaluate(path("ref.tandem")), b = evaluate(path("resumed.tandem"));
  EXPECT_EQ(a["topk_accuracy"], b["topk_accuracy"]);
  EXPECT_EQ(a["rmse"], b["rmse"]);
}

}  // namespace
}  // namespace tandem::testing
