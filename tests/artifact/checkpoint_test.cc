// Checkpoints on the tiny MovieLens-shaped data: the file round trip, damage
// detection, the directory (rotation, fallback, stale files), the schedule,
// resume's config rules, and a resumed run equal to an uninterrupted one.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "support/tiny_movielens.h"
#include "tandem/artifact/checkpoint.h"
#include "tandem/artifact/checkpoint_dir.h"
#include "tandem/artifact/checkpoint_schedule.h"
#include "tandem/experiment/experiment.h"
#include "tandem/config/resume_config.h"
#include "tandem/core/error.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Timings are the only part of a model's metrics that may differ between
// two runs of the same training.
nlohmann::json without_timings(nlohmann::json m) {
  m.erase("train_seconds");
  m.erase("eval_seconds");
  m.erase("eval_phase_seconds");
  for (auto& e : m["epochs"]) e.erase("seconds");
  return m;
}

void expect_same_model(const TrainedModel& a, const TrainedModel& b) {
  EXPECT_EQ(a.model->user_table().weights, b.model->user_table().weights);
  EXPECT_EQ(a.model->item_table().weights, b.model->item_table().weights);
  const auto pa = a.model->rating_head().parameter_values();
  const auto pb = b.model->rating_head().parameter_values();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t p = 0; p < pa.size(); ++p) {
    EXPECT_EQ(std::vector<float>(pa[p].value, pa[p].value + pa[p].size),
              std::vector<float>(pb[p].value, pb[p].value + pb[p].size))
        << pa[p].name;
  }
  EXPECT_EQ(without_timings(a.metrics), without_timings(b.metrics));
}

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tandem_ckpt_" + std::to_string(::getpid()));
    testing::write_tiny_movielens(dir_ / "data");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // tfrs: reshuffled every epoch, so the order and the RNG matter. 10 steps
  // per epoch, 2 epochs.
  ExperimentConfig config() const { return testing::tiny_config("tfrs", dir_ / "data"); }

  // A fresh model and trainer for the tiny data, and the run they belong to.
  struct Run {
    std::unique_ptr<MultiTaskModel> model;
    std::unique_ptr<Trainer> trainer;
    CheckpointRun run;
  };
  Run fresh_run(const PreparedData& data, uint64_t init_seed = 3) const {
    Run r;
    r.run.config = config();
    r.run.settings = {{"output", "/somewhere/m.tandem"}, {"checkpoint_every", "3"}};
    r.run.data_fingerprint = data_fingerprint(data);
    const ModelShape shape{data.users.rows(), data.items.rows(), 8, {16, 8}};
    r.model = std::make_unique<MultiTaskModel>(shape, 100);
    r.model->init(init_seed);
    TrainConfig tc;
    tc.batch_size = 100;
    tc.epochs = 2;
    tc.shuffle = ShuffleMode::kEveryEpoch;
    tc.shuffle_seed = 9;
    r.trainer = std::make_unique<Trainer>(*r.model, tc);
    return r;
  }

  // Writes the checkpoint of step 13 (mid-epoch, after one full epoch: a
  // history, running sums and a reshuffled order) into `path` and returns
  // the finished run.
  Run run_with_checkpoint_at_13(const PreparedData& data, const fs::path& path,
                                std::optional<TrainerState>* state_at_13 = nullptr) const {
    Run r = fresh_run(data);
    r.trainer->fit(data.train, {}, [&](const TrainerState& s) {
      if (s.global_step != 13) return;
      write_checkpoint(path.string(), r.run, *r.model, s);
      if (state_at_13) *state_at_13 = s;
    });
    return r;
  }

  fs::path dir_;
};

TEST_F(CheckpointTest, FileRoundTripRestoresTheTrainerExactly) {
  const PreparedData data = prepare_data(config());
  const fs::path path = dir_ / "c.tandem-ckpt";
  std::optional<TrainerState> at13;
  const Run uninterrupted = run_with_checkpoint_at_13(data, path, &at13);
  ASSERT_TRUE(at13.has_value());

  const Checkpoint c = read_checkpoint(path.string());
  EXPECT_EQ(c.run.config.to_json(), config().to_json());
  EXPECT_EQ(c.run.settings, uninterrupted.run.settings);
  EXPECT_EQ(c.run.data_fingerprint, data_fingerprint(data));
  const TrainerState& s = c.trainer;
  EXPECT_EQ(s.global_step, 13);
  EXPECT_EQ(s.epochs_done, 1);
  EXPECT_EQ(s.step_in_epoch, 3);
  EXPECT_EQ(s.shuffle_state, at13->shuffle_state);
  EXPECT_EQ(s.order, at13->order);
  EXPECT_EQ(s.dense_slots, at13->dense_slots);
  EXPECT_EQ(s.sparse_slots, at13->sparse_slots);
  ASSERT_EQ(s.history.size(), 1u);
  for (const auto& [got, want] : {std::pair{s.history[0], at13->history[0]},
                                  std::pair{s.current, at13->current}}) {
    EXPECT_EQ(got.epoch, want.epoch);
    EXPECT_EQ(got.steps, want.steps);
    EXPECT_EQ(got.examples, want.examples);
    EXPECT_EQ(got.ranking_loss, want.ranking_loss);  // the same double, bit for bit
    EXPECT_EQ(got.retrieval_loss, want.retrieval_loss);
    EXPECT_EQ(got.total_loss, want.total_loss);
    EXPECT_EQ(got.seconds, want.seconds);
    EXPECT_EQ(got.score_entries, want.score_entries);
  }

  // Continued in a differently initialised model: the uninterrupted result.
  Run resumed = fresh_run(data, /*init_seed=*/4);
  restore_weights(c, *resumed.model, path.string());
  resumed.trainer->restore(c.trainer);
  resumed.trainer->fit(data.train);
  EXPECT_EQ(resumed.model->user_table().weights, uninterrupted.model->user_table().weights);
  EXPECT_EQ(resumed.model->item_table().weights, uninterrupted.model->item_table().weights);
  auto pa = resumed.model->dense_parameters(), pb = uninterrupted.model->dense_parameters();
  for (size_t p = 0; p < pa.size(); ++p) {
    EXPECT_EQ(std::vector<float>(pa[p].value, pa[p].value + pa[p].size),
              std::vector<float>(pb[p].value, pb[p].value + pb[p].size));
  }
  EXPECT_EQ(resumed.trainer->state().sparse_slots,
            uninterrupted.trainer->state().sparse_slots);
  EXPECT_EQ(resumed.trainer->state().history.back().total_loss,
            uninterrupted.trainer->state().history.back().total_loss);
}

TEST_F(CheckpointTest, TruncationAndBitFlipsAreDetected) {
  const PreparedData data = prepare_data(config());
  const fs::path good = dir_ / "good.tandem-ckpt", bad = dir_ / "bad.tandem-ckpt";
  run_with_checkpoint_at_13(data, good);
  const std::string bytes = read_bytes(good);
  ASSERT_GT(bytes.size(), 1000u);

  for (size_t keep : {size_t{0}, size_t{5}, size_t{23}, size_t{100}, bytes.size() / 2, bytes.size() - 1}) {
    write_bytes(bad, bytes.substr(0, keep));
    const std::string e = error_of([&] { read_checkpoint(bad.string()); });
    EXPECT_NE(e.find("bad.tandem-ckpt"), std::string::npos) << keep << ": " << e;
    EXPECT_NE(e.find("truncated"), std::string::npos) << keep << ": " << e;
  }
  // One flipped bit anywhere in the payload or checksum.
  for (size_t at : {size_t{30}, size_t{200}, bytes.size() / 3, bytes.size() - 20, bytes.size() - 1}) {
    std::string flipped = bytes;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x10);
    write_bytes(bad, flipped);
    const std::string e = error_of([&] { read_checkpoint(bad.string()); });
    EXPECT_NE(e.find("checksum mismatch"), std::string::npos) << at << ": " << e;
  }
  // Extra bytes after the checksum (two writes interleaved, say).
  write_bytes(bad, bytes + "x");
  EXPECT_NE(error_of([&] { read_checkpoint(bad.string()); }).find("trailing"), std::string::npos);
  // A model file is not a checkpoint, and a checkpoint is not a model.
  EXPECT_NE(error_of([&] { load_model(good.string()); }).find("tandem-checkpoint"), std::string::npos);
  const auto [model, result] = train_and_evaluate(config(), data, "joint");
  save_model(bad.string(), model);
  EXPECT_NE(error_of([&] { read_checkpoint(bad.string()); }).find("not a checkpoint"),
            std::string::npos);
  // The intact file still reads.
  EXPECT_EQ(read_checkpoint(good.string()).trainer.global_step, 13);
}

TEST_F(CheckpointTest, ResumePointFallsBackToThePreviousIntactCheckpoint) {
  const PreparedData data = prepare_data(config());
  const fs::path ck = dir_ / "ck";
  fs::create_directories(ck);
  run_with_checkpoint_at_13(data, ck / checkpoint_file_name(13));
  const std::string bytes = read_bytes(ck / checkpoint_file_name(13));
  // Newer files: one truncated, one with a flipped byte, one foreign; and
  // names that are not checkpoints at all (an interrupted write's temporary).
  write_bytes(ck / checkpoint_file_name(20), bytes.substr(0, bytes.size() / 2));
  std::string flipped = bytes;
  flipped[bytes.size() / 2] = static_cast<char>(flipped[bytes.size() / 2] ^ 1);
  write_bytes(ck / checkpoint_file_name(17), flipped);
  write_bytes(ck / checkpoint_file_name(15), "not a checkpoint");
  write_bytes(ck / (checkpoint_file_name(30) + ".tmp.1.0"), bytes);
  write_bytes(ck / "notes.txt", "x");

  const ResumePoint r = find_resume_point(ck.string());
  EXPECT_EQ(fs::path(r.path).filename(), checkpoint_file_name(13));
  EXPECT_EQ(r.checkpoint.trainer.global_step, 13);
  ASSERT_EQ(r.skipped.size(), 3u);
  EXPECT_EQ(fs::path(r.skipped[0].path).filename(), checkpoint_file_name(20));
  EXPECT_NE(r.skipped[0].reason.find("truncated"), std::string::npos) << r.skipped[0].reason;
  EXPECT_NE(r.skipped[0].reason.find(checkpoint_file_name(20)), std::string::npos);
  EXPECT_NE(r.skipped[1].reason.find("checksum mismatch"), std::string::npos) << r.skipped[1].reason;
  EXPECT_NE(r.skipped[2].reason.find("bad magic"), std::string::npos) << r.skipped[2].reason;

  // A file whose name and content disagree is not trusted either.
  fs::rename(ck / checkpoint_file_name(13), ck / checkpoint_file_name(12));
  const std::string e = error_of([&] { find_resume_point(ck.string()); });
  EXPECT_NE(e.find("no intact checkpoint"), std::string::npos) << e;
  EXPECT_NE(e.find("not the step its name says"), std::string::npos) << e;
  EXPECT_NE(error_of([&] { find_resume_point((dir_ / "nowhere").string()); }).find("nowhere"),
            std::string::npos);
}

TEST_F(CheckpointTest, WriterKeepsTheNewestTwoAndNeverMixesRuns) {
  const PreparedData data = prepare_data(config());
  const fs::path ck = dir_ / "ck";
  Run r = fresh_run(data);
  std::vector<std::vector<std::string>> listings;
  {
    CheckpointWriter w(ck.string(), nullptr);
    EXPECT_EQ(w.last_good(), "");
    r.trainer->fit(data.train, {}, [&](const TrainerState& s) {
      if (s.global_step % 4 != 0) return;
      const CheckpointWritten out = w.write(r.run, *r.model, s);
      EXPECT_EQ(out.path, (ck / checkpoint_file_name(s.global_step)).string());
      EXPECT_EQ(out.bytes, static_cast<int64_t>(fs::file_size(out.path)));
      EXPECT_EQ(w.last_good(), out.path);
      std::vector<std::string> names;
      for (const auto& [step, path] : list_checkpoints(ck.string())) names.push_back(fs::path(path).filename());
      listings.push_back(names);
    });
  }
  ASSERT_EQ(listings.size(), 5u);  // steps 4, 8, 12, 16, 20
  EXPECT_EQ(listings[0], std::vector<std::string>{checkpoint_file_name(4)});
  EXPECT_EQ(listings[4], (std::vector<std::string>{checkpoint_file_name(20), checkpoint_file_name(16)}));

  // A fresh run refuses a directory holding another run's checkpoints.
  const std::string e = error_of([&] { CheckpointWriter(ck.string(), nullptr); });
  EXPECT_NE(e.find("--resume"), std::string::npos) << e;
}

TEST_F(CheckpointTest, ResumedWriterRemovesDamagedAndStaleFilesOnlyAfterItsFirstCheckpoint) {
  const PreparedData data = prepare_data(config());
  const fs::path ck = dir_ / "ck";
  fs::create_directories(ck);
  run_with_checkpoint_at_13(data, ck / checkpoint_file_name(13));
  write_bytes(ck / checkpoint_file_name(16), "damaged");
  // Temporaries of an interrupted write: one of a process that has exited,
  // one of this (live) process.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ::waitpid(child, nullptr, 0);
  const fs::path dead_tmp = ck / (checkpoint_file_name(16) + ".tmp." + std::to_string(child) + ".0");
  const fs::path live_tmp = ck / (checkpoint_file_name(19) + ".tmp." + std::to_string(::getpid()) + ".7");
  write_bytes(dead_tmp, "partial");
  write_bytes(live_tmp, "partial");

  const ResumePoint point = find_resume_point(ck.string());
  ASSERT_EQ(point.checkpoint.trainer.global_step, 13);
  Run r = fresh_run(data, 4);
  restore_weights(point.checkpoint, *r.model, point.path);
  r.trainer->restore(point.checkpoint.trainer);
  CheckpointWriter w(ck.string(), &point);
  EXPECT_EQ(w.last_good(), point.path);
  EXPECT_TRUE(fs::exists(ck / checkpoint_file_name(16)));  // nothing removed yet
  r.trainer->fit(data.train, {}, [&](const TrainerState& s) {
    if (s.global_step == 18) w.write(r.run, *r.model, s);
  });
  EXPECT_FALSE(fs::exists(ck / checkpoint_file_name(16)));
  EXPECT_FALSE(fs::exists(dead_tmp));
  EXPECT_TRUE(fs::exists(live_tmp));
  EXPECT_TRUE(fs::exists(ck / checkpoint_file_name(13)));
  EXPECT_TRUE(fs::exists(ck / checkpoint_file_name(18)));
}

TEST_F(CheckpointTest, ScheduleParsesStepsAndEpochs) {
  EXPECT_EQ(parse_checkpoint_every("500").every_steps, 500);
  EXPECT_EQ(parse_checkpoint_every("7steps").every_steps, 7);
  EXPECT_EQ(parse_checkpoint_every("1step").every_steps, 1);
  EXPECT_EQ(parse_checkpoint_every("epoch").every_epochs, 1);
  EXPECT_EQ(parse_checkpoint_every("2epochs").every_epochs, 2);
  EXPECT_EQ(parse_checkpoint_every("1epoch").every_epochs, 1);
  for (const char* bad : {"", "0", "-5", "1e", "1e3", "steps", "epochs", "2 epochs", "x", "5min",
                          "9999999999999"}) {
    EXPECT_THROW(parse_checkpoint_every(bad), Error) << bad;
  }
  EXPECT_EQ(parse_checkpoint_every("500").text(), "500");
  EXPECT_EQ(parse_checkpoint_every("epoch").text(), "1epochs");
  EXPECT_EQ(parse_checkpoint_every(parse_checkpoint_every("3epochs").text()).every_epochs, 3);

  TrainerState s;
  s.global_step = 12;
  s.step_in_epoch = 2;
  s.epochs_done = 1;
  EXPECT_TRUE(parse_checkpoint_every("4").due(s));
  EXPECT_FALSE(parse_checkpoint_every("5").due(s));
  EXPECT_FALSE(parse_checkpoint_every("epoch").due(s));  // mid-epoch
  s.step_in_epoch = 0;
  s.epochs_done = 2;
  EXPECT_TRUE(parse_checkpoint_every("epoch").due(s));
  EXPECT_TRUE(parse_checkpoint_every("2epochs").due(s));
  s.epochs_done = 3;
  EXPECT_FALSE(parse_checkpoint_every("2epochs").due(s));
}

TEST_F(CheckpointTest, ResumeConfigAllowsLocationsEpochsAndEvaluationOnly) {
  const ExperimentConfig stored = config();
  ExperimentConfig given = stored;
  given.data_dir = "/moved/data";
  given.epochs = 5;
  given.k = 3;
  EXPECT_EQ(resume_config(stored, given, 1, "ck").to_json(), given.to_json());

  given = stored;
  given.batch_size = 50;
  given.embedding_dim = 16;
  const std::string e = error_of([&] { resume_config(stored, given, 1, "ckpt-1"); });
  EXPECT_NE(e.find("ckpt-1"), std::string::npos) << e;
  EXPECT_NE(e.find("--batch-size ([training] batch_size) is 100 in the checkpoint, 50 on the command line"),
            std::string::npos) << e;
  EXPECT_NE(e.find("--embedding-dim ([model] embedding_dim)"), std::string::npos) << e;
  for (auto change : std::vector<std::function<void(ExperimentConfig&)>>{
           [](ExperimentConfig& c) { c.preset = "kerasrs"; },
           [](ExperimentConfig& c) { c.seed = 1; },
           [](ExperimentConfig& c) { c.train_count = 900; },
           [](ExperimentConfig& c) { c.optimizer.learning_rate = 0.05f; },
           [](ExperimentConfig& c) { c.threads = 2; },
           [](ExperimentConfig& c) { c.weights.ranking = 0.5f; },
           [](ExperimentConfig& c) { c.distinct_rows = false; }}) {
    given = stored;
    change(given);
    EXPECT_THROW(resume_config(stored, given, 1, "ck"), Error) << given.to_json().dump();
  }
  given = stored;
  given.epochs = 1;
  EXPECT_NO_THROW(resume_config(stored, given, 1, "ck"));
  EXPECT_NE(error_of([&] { resume_config(stored, given, 2, "ck"); }).find("fewer than the 2 epochs"),
            std::string::npos);
}

// train_and_evaluate with checkpoints: resuming from any checkpoint gives
// the uninterrupted run's model and metrics; the last checkpoint is written
// when training ends.
TEST_F(CheckpointTest, ResumedTrainingEqualsUninterruptedTraining) {
  for (const char* preset : {"tfrs", "kerasrs"}) {
    SCOPED_TRACE(preset);
    const ExperimentConfig c = testing::tiny_config(preset, dir_ / "data");
    const PreparedData data = prepare_data(c);
    const auto [reference, ref_result] = train_and_evaluate(c, data, "joint");

    const fs::path ck = dir_ / (std::string("ck-") + preset), saved = dir_ / "saved";
    fs::create_directories(saved);
    Checkpointing cp;
    cp.dir = ck.string();
    cp.schedule = parse_checkpoint_every("3");
    cp.on_write = [&](const CheckpointWritten& w) {
      fs::copy_file(w.path, saved / fs::path(w.path).filename(), fs::copy_options::overwrite_existing);
    };
    const auto [checkpointed, result] = train_and_evaluate(c, data, "joint", {}, &cp);
    expect_same_model(reference, checkpointed);
    std::vector<int64_t> steps;
    for (const auto& [step, path] : list_checkpoints(saved.string())) steps.insert(steps.begin(), step);
    EXPECT_EQ(steps, (std::vector<int64_t>{3, 6, 9, 12, 15, 18, 20}));  // + the final one

    for (int64_t step : steps) {
      SCOPED_TRACE("resumed from step " + std::to_string(step));
      const fs::path one = dir_ / "one";
      fs::remove_all(one);
      fs::create_directories(one);
      fs::copy_file(saved / checkpoint_file_name(step), one / checkpoint_file_name(step));
      const ResumePoint point = find_resume_point(one.string());
      Checkpointing resume = cp;
      resume.dir = one.string();
      resume.resume = &point;
      resume.on_write = {};
      const auto [resumed, r] = train_and_evaluate(c, data, "joint", {}, &resume);
      expect_same_model(reference, resumed);
      EXPECT_TRUE(fs::exists(one / checkpoint_file_name(20)));
    }
    fs::remove_all(saved);
  }
}

// The same with Adam under a warmup + cosine schedule and an L2 penalty on
// the embeddings: the moments, the global step of the bias correction and
// the rate all continue exactly.
TEST_F(CheckpointTest, ResumedAdamTrainingEqualsUninterruptedTraining) {
  ExperimentConfig c = config();
  c.optimizer.kind = OptimizerKind::kAdam;
  c.optimizer.learning_rate = 0.01f;
  c.optimizer.schedule.kind = LrScheduleKind::kCosine;
  c.optimizer.schedule.warmup_steps = 4;
  c.optimizer.embedding_l2 = 1e-3f;
  const PreparedData data = prepare_data(c);
  const auto [reference, ref_result] = train_and_evaluate(c, data, "joint");
  EXPECT_NE(reference.model->user_table().weights,
            train_and_evaluate(config(), data, "joint").first.model->user_table().weights);

  const fs::path ck = dir_ / "ck", saved = dir_ / "saved";
  fs::create_directories(saved);
  Checkpointing cp;
  cp.dir = ck.string();
  cp.schedule = parse_checkpoint_every("7");
  cp.on_write = [&](const CheckpointWritten& w) {
    fs::copy_file(w.path, saved / fs::path(w.path).filename(), fs::copy_options::overwrite_existing);
  };
  train_and_evaluate(c, data, "joint", {}, &cp);
  const Checkpoint at7 = read_checkpoint((saved / checkpoint_file_name(7)).string());
  EXPECT_EQ(at7.trainer.optimizer, "adam");
  EXPECT_EQ(at7.trainer.slot_names, (std::vector<std::string>{"adam_m", "adam_v"}));
  ASSERT_EQ(at7.trainer.sparse_slots.size(), 2u);
  EXPECT_EQ(at7.trainer.sparse_slots[0].size(), 2u);
  for (int64_t step : {7, 14}) {
    SCOPED_TRACE("resumed from step " + std::to_string(step));
    const fs::path one = dir_ / ("one-" + std::to_string(step));
    fs::create_directories(one);
    fs::copy_file(saved / checkpoint_file_name(step), one / checkpoint_file_name(step));
    const ResumePoint point = find_resume_point(one.string());
    Checkpointing resume = cp;
    resume.dir = one.string();
    resume.resume = &point;
    resume.on_write = {};
    const auto [resumed, r] = train_and_evaluate(c, data, "joint", {}, &resume);
    expect_same_model(reference, resumed);
  }
}

// A checkpoint holds one optimizer's state: resuming it with another is
// refused, naming both.
TEST_F(CheckpointTest, ResumeWithAnotherOptimizerIsRefused) {
  const ExperimentConfig c = config();
  const PreparedData data = prepare_data(c);
  Checkpointing cp;
  cp.dir = (dir_ / "ck").string();
  cp.schedule = parse_checkpoint_every("epoch");
  train_and_evaluate(c, data, "joint", {}, &cp);
  const ResumePoint point = find_resume_point(cp.dir);
  ExperimentConfig adam = c;
  adam.optimizer.kind = OptimizerKind::kAdam;
  cp.resume = &point;
  const std::string e = error_of([&] { train_and_evaluate(adam, data, "joint", {}, &cp); });
  EXPECT_NE(e.find(checkpoint_file_name(20)), std::string::npos) << e;
  EXPECT_NE(e.find("optimizer adagrad (state: adagrad), this run uses adam (state: adam_m, adam_v)"),
            std::string::npos) << e;
}

// Checkpoints written before other optimizers existed name no slots: their
// "adagrad/<name>" tensors are read as Adagrad's accumulators.
TEST_F(CheckpointTest, CheckpointsWithoutSlotNamesReadAsAdagrad) {
  const PreparedData data = prepare_data(config());
  const fs::path path = dir_ / "c.tandem-ckpt";
  std::optional<TrainerState> at13;
  run_with_checkpoint_at_13(data, path, &at13);
  ModelBundle b = read_model_file(path.string());
  ASSERT_EQ(b.metadata["trainer"]["optimizer_slots"], nlohmann::json::array({"adagrad"}));
  b.metadata["trainer"].erase("optimizer");
  b.metadata["trainer"].erase("optimizer_slots");
  const Checkpoint c = checkpoint_from_bundle(b, "old");
  EXPECT_EQ(c.trainer.optimizer, "adagrad");
  EXPECT_EQ(c.trainer.slot_names, std::vector<std::string>{"adagrad"});
  EXPECT_EQ(c.trainer.sparse_slots, at13->sparse_slots);
  EXPECT_EQ(c.trainer.dense_slots, at13->dense_slots);
  // Naming slots the file does not hold is an error, not a silent zero state.
  b.metadata["trainer"]["optimizer_slots"] = {"adam_m", "adam_v"};
  EXPECT_NE(error_of([&] { checkpoint_from_bundle(b, "odd"); }).find("odd"), std::string::npos);
}

TEST_F(CheckpointTest, ResumeOnOtherDataIsRefused) {
  const ExperimentConfig c = config();
  const PreparedData data = prepare_data(c);
  Checkpointing cp;
  cp.dir = (dir_ / "ck").string();
  cp.schedule = parse_checkpoint_every("epoch");
  train_and_evaluate(c, data, "joint", {}, &cp);
  const ResumePoint point = find_resume_point(cp.dir);
  ExperimentConfig other = c;
  other.seed = 5;  // another split of the same file
  const PreparedData other_data = prepare_data(other);
  cp.resume = &point;
  const std::string e = error_of([&] { train_and_evaluate(c, other_data, "joint", {}, &cp); });
  EXPECT_NE(e.find("other data"), std::string::npos) << e;
  EXPECT_NE(e.find(checkpoint_file_name(20)), std::string::npos) << e;
}

TEST_F(CheckpointTest, NonFiniteLossNamesTheStepAndTheLastGoodCheckpoint) {
  ExperimentConfig c = config();
  c.optimizer.learning_rate = 1e30f;  // the first update overflows the next step's scores
  const PreparedData data = prepare_data(c);
  Checkpointing cp;
  cp.dir = (dir_ / "ck").string();
  cp.schedule = parse_checkpoint_every("1");
  const std::string e = error_of([&] { train_and_evaluate(c, data, "joint", {}, &cp); });
  EXPECT_NE(e.find("at step 2 "), std::string::npos) << e;
  EXPECT_NE(e.find("the last good checkpoint is " + (fs::path(cp.dir) / checkpoint_file_name(1)).string()),
            std::string::npos) << e;
  // That checkpoint is intact and is where a resume would start.
  EXPECT_EQ(find_resume_point(cp.dir).checkpoint.trainer.global_step, 1);

  Checkpointing none = cp;
  none.dir = (dir_ / "ck2").string();
  none.schedule = parse_checkpoint_every("epoch");
  EXPECT_NE(error_of([&] { train_and_evaluate(c, data, "joint", {}, &none); }).find("no checkpoint was written"),
            std::string::npos);
}

}  // namespace
}  // namespace tandem
