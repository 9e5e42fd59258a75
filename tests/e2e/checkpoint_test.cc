// tandem train --checkpoint-dir / --resume end to end: a run killed with
// SIGKILL at a random moment and resumed produces the uninterrupted run's
// model bit for bit (ML-100K, both presets, one and two threads); a damaged
// newest checkpoint is skipped with a warning; conflicting flags and misuse
// are clear errors; a non-finite loss stops training, names the step and the
// last good checkpoint, and writes no model.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "e2e_util.h"
#include "same_model_file.h"
#include "support/tiny_movielens.h"
#include "tandem/artifact/checkpoint_dir.h"
#include "tandem/core/random.h"
#include "tandem/io/model_file.h"

namespace tandem::testing {
namespace {

namespace fs = std::filesystem;

int64_t newest_step(const fs::path& dir) {
  if (!fs::is_directory(dir)) return -1;  // not created yet
  const auto all = list_checkpoints(dir.string());
  return all.empty() ? -1 : all.front().first;
}

std::string file_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class Checkpoints : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tandem_e2e_ckpt_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Runs `tandem train <args>` in the background until the checkpoint
  // directory holds a checkpoint newer than `after_step`, waits a random
  // 0-250 ms more and kills it with SIGKILL. Returns the newest checkpoint
  // step left behind. Fails if the run ends before it is killed.
  int64_t kill_during(const std::vector<std::string>& args, const fs::path& ckpt_dir,
                      int64_t after_step, Rng& rng) {
    // Whatever happens in here (a failed check throws), the child does not
    // outlive the test.
    struct Child {
      pid_t pid;
      int status = 0;
      bool reaped = false;
      void kill_and_reap() {
        if (reaped) return;
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        reaped = true;
      }
      ~Child() { kill_and_reap(); }
    } child{spawn_tandem(args, path("bg.out"), path("bg.err"))};
    if (child.pid <= 0) {
      child.reaped = true;
      ADD_FAILURE() << "fork failed";
      return -1;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (newest_step(ckpt_dir) <= after_step) {
      if (::waitpid(child.pid, &child.status, WNOHANG) == child.pid) {
        child.reaped = true;
        ADD_FAILURE() << "the run ended before a new checkpoint appeared: " << file_text(path("bg.err"));
        return -1;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "no checkpoint after step " << after_step << " within 60 s";
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(rng.below(250)));
    child.kill_and_reap();
    EXPECT_TRUE(WIFSIGNALED(child.status) && WTERMSIG(child.status) == SIGKILL)
        << "the run finished before the kill, so nothing was interrupted";
    const int64_t step = newest_step(ckpt_dir);
    RecordProperty("killed_after_checkpoint_" + std::to_string(after_step), std::to_string(step));
    return step;
  }

  // Reference run, then the same run killed twice at random moments and
  // resumed each time: the final model files must be identical.
  void kill_twice_and_resume(const std::string& flags, const std::string& every, int64_t total_steps,
                             uint64_t seed) {
    SCOPED_TRACE("kill delays from seed " + std::to_string(seed));
    const std::string data = "--data '" + movielens_dir() + "'";
    auto ref = run_tandem("train " + flags + " " + data + " --quiet --output '" + path("ref.tandem") + "'");
    ASSERT_EQ(ref.exit_code, 0) << ref.err;

    const fs::path ck = dir_ / "ck";
    std::vector<std::string> args = {"train", "--data", movielens_dir(), "--quiet",
                                     "--output", path("resumed.tandem"), "--checkpoint-dir", ck.string(),
                                     "--checkpoint-every", every};
    std::istringstream split(flags);
    for (std::string w; split >> w;) args.push_back(w);
    Rng rng(seed);
    const int64_t first = kill_during(args, ck, 0, rng);
    ASSERT_GT(first, 0);
    ASSERT_LT(first, total_steps);
    EXPECT_FALSE(fs::exists(path("resumed.tandem")));

    // The resumed run needs no flags: config, output and schedule come from
    // the checkpoint. Killed again after its first new checkpoint.
    const int64_t second =
        kill_during({"train", "--resume", ck.string(), "--quiet"}, ck, first, rng);
    ASSERT_GT(second, first);
    ASSERT_LT(second, total_steps);
    EXPECT_FALSE(fs::exists(path("resumed.tandem")));

    auto done = run_tandem("train --resume '" + ck.string() + "' --json --quiet");
    ASSERT_EQ(done.exit_code, 0) << done.err;
    const auto j = nlohmann::json::parse(done.out);
    EXPECT_EQ(j["resumed_at_step"].get<int64_t>(), second);
    EXPECT_EQ(j["output"], path("resumed.tandem"));
    EXPECT_EQ(newest_step(ck), total_steps);  // the final checkpoint
    expect_same_model_file(path("ref.tandem"), path("resumed.tandem"));
  }

  fs::path dir_;
};

TEST_F(Checkpoints, KilledKerasRsRunResumesToTheSameModelOneThread) {
  TANDEM_REQUIRE_MOVIELENS();
  // 3 epochs of 80 steps, a checkpoint every 5 steps.
  kill_twice_and_resume("--preset kerasrs --epochs 3 --seed 3 --threads 1", "5", 240, 20240611);
}

TEST_F(Checkpoints, KilledTfrsRunResumesToTheSameModelTwoThreads) {
  TANDEM_REQUIRE_MOVIELENS();
  // Reshuffled every epoch, batches split between two threads: 4 epochs of
  // 10 steps, a checkpoint every 2 steps.
  kill_twice_and_resume("--preset tfrs --epochs 4 --seed 3 --threads 2", "2", 40, 7);
}

TEST_F(Checkpoints, KilledTfrsAdamRunWithScheduleResumesToTheSameModel) {
  TANDEM_REQUIRE_MOVIELENS();
  // Adam's moments and bias-correction step, a warmup + cosine rate and an
  // L2 penalty all carried across two kills: 4 epochs of 10 steps.
  kill_twice_and_resume(
      "--preset tfrs --epochs 4 --seed 3 --threads 2 --optimizer adam --learning-rate 0.01 "
      "--lr-schedule cosine --warmup-steps 5 --embedding-l2 0.0001",
      "2", 40, 11);
}

class TinyCheckpoints : public Checkpoints {
 protected:
  void SetUp() override {
    Checkpoints::SetUp();
    write_tiny_movielens(dir_ / "data");
  }
  // The tiny preset of the app tests: 10 steps per epoch, 2 epochs.
  std::string tiny_flags() const {
    return "--preset tfrs --data '" + (dir_ / "data").string() +
           "' --train-count 1000 --test-count 200 --batch-size 100 --epochs 2 --embedding-dim 8 "
           "--layers 16,8 --k 5 --threads 1";
  }
};

TEST_F(TinyCheckpoints, DamagedNewestCheckpointIsSkippedWithAWarning) {
  auto ref = run_tandem("train " + tiny_flags() + " --quiet --output '" + path("ref.tandem") + "'");
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  const std::string ck = path("ck");
  auto full = run_tandem("train " + tiny_flags() + " --checkpoint-dir '" + ck +
                         "' --checkpoint-every 3 --output '" + path("m.tandem") + "'");
  ASSERT_EQ(full.exit_code, 0) << full.err;
  EXPECT_NE(full.err.find("checkpoint " + ck + "/" + checkpoint_file_name(18)), std::string::npos)
      << full.err;
  // The newest two are kept: step 18 and the final step 20.
  const auto kept = list_checkpoints(ck);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].first, 20);
  EXPECT_EQ(kept[1].first, 18);

  fs::resize_file(kept[0].second, fs::file_size(kept[0].second) / 2);
  auto resumed = run_tandem("train --resume '" + ck + "' --json");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("warning"), std::string::npos) << resumed.err;
  EXPECT_NE(resumed.err.find(checkpoint_file_name(20)), std::string::npos) << resumed.err;
  EXPECT_NE(resumed.err.find("truncated"), std::string::npos) << resumed.err;
  EXPECT_EQ(nlohmann::json::parse(resumed.out)["resumed_at_step"], 18);
  expect_same_model_file(path("ref.tandem"), path("m.tandem"));
  // The damaged file was replaced by the resumed run's final checkpoint.
  EXPECT_EQ(newest_step(ck), 20);
  EXPECT_NO_THROW(read_model_file(ck + "/" + checkpoint_file_name(20)));
}

TEST_F(TinyCheckpoints, ConflictingFlagsAndMisuseAreClearErrors) {
  const std::string ck = path("ck");
  auto first = run_tandem("train " + tiny_flags() + " --quiet --checkpoint-dir '" + ck + "'");
  ASSERT_EQ(first.exit_code, 0) << first.err;

  auto batch = run_tandem("train --resume '" + ck + "' --batch-size 50 --quiet");
  EXPECT_EQ(batch.exit_code, 1);
  EXPECT_NE(batch.err.find("conflicts"), std::string::npos) << batch.err;
  EXPECT_NE(batch.err.find("--batch-size ([training] batch_size) is 100 in the checkpoint, 50"), std::string::npos)
      << batch.err;
  auto preset = run_tandem("train --resume '" + ck + "' --preset kerasrs --quiet");
  EXPECT_EQ(preset.exit_code, 1);
  EXPECT_NE(preset.err.find("preset"), std::string::npos) << preset.err;
  auto shorter = run_tandem("train --resume '" + ck + "' --epochs 1 --quiet");
  EXPECT_EQ(shorter.exit_code, 1);
  EXPECT_NE(shorter.err.find("fewer than the 2 epochs"), std::string::npos) << shorter.err;
  // --data may point elsewhere, but only at the same data.
  fs::copy(dir_ / "data", dir_ / "data2");
  std::ofstream(dir_ / "data2" / "u.data", std::ios::app) << "1\t3\t5\t889999999\n";
  auto other_data = run_tandem("train --resume '" + ck + "' --data '" + path("data2") + "' --quiet");
  EXPECT_EQ(other_data.exit_code, 1);
  EXPECT_NE(other_data.err.find("trained on other data"), std::string::npos) << other_data.err;
  // Flags that agree are fine, and --epochs may extend the run.
  auto agree = run_tandem("train --resume '" + ck + "' --batch-size 100 --epochs 3 --json --quiet");
  ASSERT_EQ(agree.exit_code, 0) << agree.err;
  EXPECT_EQ(nlohmann::json::parse(agree.out)["epochs"].size(), 3u);

  // A checkpoint written on a machine with other "all cores": resumed with a
  // warning that the result will not be bit for bit the original run's.
  const std::string newest = list_checkpoints(ck).front().second;
  ModelBundle b = read_model_file(newest);
  b.metadata["settings"]["threads"] = 1000;
  write_model_file(newest, b);
  auto other_machine = run_tandem("train --resume '" + ck + "' --threads 1 --quiet");
  EXPECT_EQ(other_machine.exit_code, 0) << other_machine.err;
  EXPECT_NE(other_machine.err.find("used 1000 threads, this one uses 1"), std::string::npos)
      << other_machine.err;
  EXPECT_EQ(agree.err.find("warning"), std::string::npos) << agree.err;

  auto reuse = run_tandem("train " + tiny_flags() + " --quiet --checkpoint-dir '" + ck + "'");
  EXPECT_EQ(reuse.exit_code, 1);
  EXPECT_NE(reuse.err.find("already holds checkpoints"), std::string::npos) << reuse.err;
  auto no_dir = run_tandem("train " + tiny_flags() + " --quiet --checkpoint-every 5");
  EXPECT_EQ(no_dir.exit_code, 1);
  EXPECT_NE(no_dir.err.find("--checkpoint-dir"), std::string::npos) << no_dir.err;
  auto bad_every =
      run_tandem("train " + tiny_flags() + " --quiet --checkpoint-dir '" + path("x") + "' --checkpoint-every 1e3");
  EXPECT_EQ(bad_every.exit_code, 1);
  EXPECT_NE(bad_every.err.find("2epochs"), std::string::npos) << bad_every.err;
  fs::create_directories(path("empty"));
  auto empty = run_tandem("train --resume '" + path("empty") + "' --quiet");
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_NE(empty.err.find("no intact checkpoint"), std::string::npos) << empty.err;
  auto both = run_tandem("train --resume '" + ck + "' --checkpoint-dir '" + path("y") + "'");
  EXPECT_NE(both.exit_code, 0);
  auto help = run_tandem("train --help");
  EXPECT_NE(help.out.find("2epochs"), std::string::npos);
  EXPECT_NE(help.out.find("--resume"), std::string::npos);
}

TEST_F(TinyCheckpoints, NonFiniteLossStopsKeepsTheLastGoodCheckpointAndWritesNoModel) {
  const std::string ck = path("ck"), model = path("m.tandem");
  {
    std::ofstream(model) << "an earlier model";
  }
  // With a learning rate of 1e30 the first update overflows the second
  // step's scores.
  auto r = run_tandem("train " + tiny_flags() + " --learning-rate 1e30 --quiet --checkpoint-dir '" +
                      ck + "' --checkpoint-every 1 --output '" + model + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("at step 2 "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the last good checkpoint is " + ck + "/" + checkpoint_file_name(1)),
            std::string::npos)
      << r.err;
  EXPECT_EQ(file_text(model), "an earlier model");
  const auto left = list_checkpoints(ck);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_NO_THROW(read_model_file(left[0].second));

  // Without checkpoints the error says so, and still no model is written.
  fs::remove(model);
  auto plain = run_tandem("train " + tiny_flags() + " --learning-rate 1e30 --quiet --output '" + model + "'");
  EXPECT_EQ(plain.exit_code, 1);
  EXPECT_NE(plain.err.find("at step 2 "), std::string::npos) << plain.err;
  EXPECT_FALSE(fs::exists(model));
}

}  // namespace
}  // namespace tandem::testing
