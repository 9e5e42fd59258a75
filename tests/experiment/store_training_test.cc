// Training from a store: the streamed batches are the BlockShuffle order of
// the store's rows (batches straddling windows included); with shuffle
// "none" the run equals in-memory training bit for bit; the seen-items index
// equals the in-memory one; [evaluation] max_pairs bounds evaluation; a
// resumed run equals an uninterrupted one; the memory estimate counts the
// buffers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "support/tiny_movielens.h"
#include "tandem/artifact/checkpoint_dir.h"
#include "tandem/config/resume_config.h"
#include "tandem/core/error.h"
#include "tandem/experiment/experiment.h"
#include "tandem/experiment/resource_guard.h"
#include "tandem/experiment/store_interactions.h"
#include "tandem/io/model_file.h"
#include "tandem/prepare/store_batch_source.h"
#include "tandem/serve/recommender.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

nlohmann::json without_timings(nlohmann::json m) {
  m.erase("train_seconds");
  m.erase("eval_seconds");
  m.erase("eval_phase_seconds");
  for (auto& e : m["epochs"]) e.erase("seconds");
  return m;
}

// Every seen item of a model, wherever it holds them.
std::vector<int32_t> all_seen(const TrainedModel& m) {
  std::vector<int32_t> out;
  m.for_each_seen_chunk([&](const int32_t* p, size_t n) { out.insert(out.end(), p, p + n); });
  return out;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A store as written before it held the training-interaction index.
void drop_seen_index(const std::string& store) {
  std::ifstream in(store + "/manifest.json");
  auto m = nlohmann::json::parse(in);
  in.close();
  nlohmann::json kept = nlohmann::json::array();
  for (const auto& f : m["files"])
    if (f["name"].get<std::string>().find("train.seen_") != 0 && f["name"] != kStoreItemCounts) kept.push_back(f);
  m["files"] = kept;
  std::ofstream(store + "/manifest.json", std::ios::trunc) << m.dump();
}

class StoreTrainingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tandem_store_training_" + std::to_string(::getpid()));
    testing::write_tiny_movielens(dir_ / "data");
  }
  void TearDown() override { fs::remove_all(dir_); }
  // The config and its store (written once per preset).
  ExperimentConfig config(const std::string& preset) const { return testing::tiny_config(preset, dir_ / "data"); }
  PreparedStore store_for(const ExperimentConfig& c, const PreparedData& d, const std::string& name) const {
    const std::string path = (dir_ / name).string();
    if (!fs::exists(path)) write_prepared_store(path, c, d);
    return open_prepared_store(path);
  }
  fs::path dir_;
};

TEST_F(StoreTrainingTest, BatchesFollowTheBlockShuffleOrderAcrossWindows) {
  const ExperimentConfig c = config("kerasrs");
  const PreparedData d = prepare_data(c);
  const PreparedStore s = store_for(c, d, "s");
  const StreamShape shape{10, 3};
  for (ShuffleMode mode : {ShuffleMode::kNone, ShuffleMode::kOnce, ShuffleMode::kEveryEpoch}) {
    SCOPED_TRACE(to_string(mode));
    StoreBatchSource source(s, shape);
    TrainerState st;
    st.shuffle_state = 77;
    std::vector<std::vector<int64_t>> epochs;
    for (int epoch = 0; epoch < 2; ++epoch) {
      st.epochs_done = epoch;
      st.step_in_epoch = 0;
      source.start_step(st, mode);
      BlockShuffle expected(s.train.rows, 10, 3);
      expected.set_epoch(mode != ShuffleMode::kNone,
                         mode == ShuffleMode::kEveryEpoch ? derive_seed(77, static_cast<uint64_t>(epoch)) : 77);
      const auto rows = expected.epoch_rows();
      // Batches of 7: most straddle a window boundary somewhere.
      std::vector<int32_t> u(7), it(7);
      std::vector<float> l(7);
      std::vector<int64_t> ts(7);
      for (int64_t first = 0; first < s.train.rows; first += 7) {
        const int64_t m = std::min<int64_t>(7, s.train.rows - first);
        source.gather(st, first, m, {u.data(), it.data(), l.data(), ts.data(), nullptr});
        for (int64_t i = 0; i < m; ++i) {
          const auto r = static_cast<size_t>(rows[static_cast<size_t>(first + i)]);
          ASSERT_EQ(u[static_cast<size_t>(i)], d.train.users[r]) << "position " << first + i;
          ASSERT_EQ(it[static_cast<size_t>(i)], d.train.items[r]);
          ASSERT_EQ(l[static_cast<size_t>(i)], d.train.labels[r]);
          ASSERT_EQ(ts[static_cast<size_t>(i)], d.train.timestamps[r]);
        }
      }
      epochs.push_back(rows);
    }
    // Each window read once per epoch.
    EXPECT_EQ(source.windows_read(), 2 * ((s.train.rows + 29) / 30));
    if (mode == ShuffleMode::kEveryEpoch) {
      EXPECT_NE(epochs[0], epochs[1]);
    } else {
      EXPECT_EQ(epochs[0], epochs[1]);
    }
  }
  // A state from in-memory training (an order) is refused.
  StoreBatchSource source(s, shape);
  TrainerState st;
  st.order = {0, 1, 2};
  EXPECT_THROW(source.start_step(st, ShuffleMode::kNone), Error);
}

TEST_F(StoreTrainingTest, EachRankStreamsItsStridedRowsOfEveryBatch) {
  const ExperimentConfig c = config("kerasrs");
  const PreparedData d = prepare_data(c);
  const PreparedStore s = store_for(c, d, "s");
  const StreamShape shape{10, 3};
  for (ShuffleMode mode : {ShuffleMode::kNone, ShuffleMode::kEveryEpoch}) {
    for (int ranks : {2, 3}) {
      SCOPED_TRACE(to_string(mode) + ", " + std::to_string(ranks) + " ranks");
      BlockShuffle expected(s.train.rows, 10, 3);
      expected.set_epoch(mode != ShuffleMode::kNone, mode == ShuffleMode::kEveryEpoch ? derive_seed(77, 0) : 77);
      const auto rows = expected.epoch_rows();
      for (int rank = 0; rank < ranks; ++rank) {
        StoreBatchSource source(s, shape, rank, ranks);
        TrainerState st;
        st.shuffle_state = 77;
        source.start_step(st, mode);
        EXPECT_THROW(source.gather(st, 0, 1, {}), Error);  // a part is read with gather_part
        std::vector<int32_t> u(7), it(7);
        std::vector<float> l(7);
        std::vector<int64_t> ts(7);
        for (int64_t first = 0; first < s.train.rows; first += 7) {
          const int64_t m = std::min<int64_t>(7, s.train.rows - first);
          const int64_t got = source.gather_part(st, first, m, {u.data(), it.data(), l.data(), ts.data(), nullptr});
          // The batch's rows r with r mod ranks == rank, in position order.
          int64_t k = 0;
          for (int64_t i = 0; i < m; ++i) {
            const auto r = static_cast<size_t>(rows[static_cast<size_t>(first + i)]);
            if (static_cast<int>(r % static_cast<size_t>(ranks)) != rank) continue;
            ASSERT_LT(k, got);
            ASSERT_EQ(u[static_cast<size_t>(k)], d.train.users[r]) << "position " << first + i;
            ASSERT_EQ(it[static_cast<size_t>(k)], d.train.items[r]);
            ASSERT_EQ(l[static_cast<size_t>(k)], d.train.labels[r]);
            ASSERT_EQ(ts[static_cast<size_t>(k)], d.train.timestamps[r]);
            ++k;
          }
          ASSERT_EQ(k, got);
        }
      }
    }
  }
  EXPECT_THROW(StoreBatchSource(s, shape, 2, 2), Error);
}

TEST_F(StoreTrainingTest, UnshuffledStoreTrainingEqualsInMemoryTraining) {
  ExperimentConfig c = config("kerasrs");
  c.stream_block_rows = 64;  // windows smaller than the data
  c.stream_window_blocks = 2;
  const PreparedData d = prepare_data(c);
  const PreparedStore s = store_for(c, d, "s");
  const auto [mem, mem_result] = train_and_evaluate(c, d, "joint");
  const auto [disk, disk_result] = train_and_evaluate_store(with_store_data(c, s), s, "joint");
  EXPECT_EQ(mem.model->user_table().weights, disk.model->user_table().weights);
  EXPECT_EQ(mem.model->item_table().weights, disk.model->item_table().weights);
  EXPECT_EQ(without_timings(mem.metrics), without_timings(disk.metrics));
  EXPECT_EQ(mem.item_train_counts, disk.item_train_counts);
  EXPECT_EQ(mem.seen_offsets, disk.seen_offsets);
  // The store's seen items stay in its file.
  EXPECT_TRUE(disk.seen_items.empty());
  ASSERT_NE(disk.seen_reader, nullptr);
  EXPECT_EQ(mem.seen_items, all_seen(disk));
}

TEST_F(StoreTrainingTest, ShuffledStoreTrainingVisitsEveryExampleAndIsDeterministic) {
  ExperimentConfig c = config("tfrs");
  c.stream_block_rows = 50;
  c.stream_window_blocks = 3;
  const PreparedData d = prepare_data(c);
  const PreparedStore s = store_for(c, d, "t");
  const ExperimentConfig sc = with_store_data(c, s);
  const auto [a, ra] = train_and_evaluate_store(sc, s, "joint");
  const auto [b, rb] = train_and_evaluate_store(sc, s, "joint");
  EXPECT_EQ(a.model->user_table().weights, b.model->user_table().weights);
  ASSERT_EQ(ra.history.size(), 2u);
  for (const auto& e : ra.history) {
    EXPECT_EQ(e.examples, s.train.rows);
    EXPECT_TRUE(std::isfinite(e.total_loss));
  }
  EXPECT_GT(ra.eval.topk_accuracy, 0.0);
  // Another seed, another order, other weights.
  ExperimentConfig other = sc;
  other.init_seed = sc.training_seed() + 1;
  const auto [o, ro] = train_and_evaluate_store(other, s, "joint");
  EXPECT_NE(a.model->user_table().weights, o.model->user_table().weights);
}

TEST_F(StoreTrainingTest, MaxPairsEvaluatesTheFirstTestPairsOnly) {
  ExperimentConfig c = config("kerasrs");
  const PreparedData d = prepare_data(c);
  const PreparedStore s = store_for(c, d, "s");
  c.eval_max_pairs = 37;
  const auto [disk, r] = train_and_evaluate_store(with_store_data(c, s), s, "joint");
  EXPECT_EQ(r.eval.evaluated, 37);
  const auto [mem, rm] = train_and_evaluate(c, d, "joint");
  EXPECT_EQ(rm.eval.evaluated, 37);
  EXPECT_EQ(r.eval.rmse, rm.eval.rmse);
}

TEST_F(StoreTrainingTest, ResumedStoreTrainingEqualsUninterruptedTraining) {
  ExperimentConfig c = config("tfrs");
  c.shuffle = ShuffleMode::kEveryEpoch;  // a new streaming order each epoch
  c.stream_block_rows = 40;
  c.stream_window_blocks = 2;
  const PreparedData d = prepare_data(c);
  const PreparedStore s = store_for(c, d, "t");
  const ExperimentConfig sc = with_store_data(c, s);
  const auto [reference, ref_result] = train_and_evaluate_store(sc, s, "joint");

  const fs::path ck = dir_ / "ck", saved = dir_ / "saved";
  fs::create_directories(saved);
  Checkpointing cp;
  cp.dir = ck.string();
  cp.schedule = parse_checkpoint_every("3");
  cp.on_write = [&](const CheckpointWritten& w) {
    fs::copy_file(w.path, saved / fs::path(w.path).filename(), fs::copy_options::overwrite_existing);
  };
  train_and_evaluate_store(sc, s, "joint", {}, &cp);
  for (int64_t step : {3, 12, 15}) {
    SCOPED_TRACE("resumed from step " + std::to_string(step));
    const fs::path one = dir_ / ("one" + std::to_string(step));
    fs::create_directories(one);
    fs::copy_file(saved / checkpoint_file_name(step), one / checkpoint_file_name(step));
    const ResumePoint point = find_resume_point(one.string());
    Checkpointing resume = cp;
    resume.dir = one.string();
    resume.resume = &point;
    resume.on_write = {};
    const auto [resumed, r] = train_and_evaluate_store(sc, s, "joint", {}, &resume);
    EXPECT_EQ(reference.model->user_table().weights, resumed.model->user_table().weights);
    EXPECT_EQ(reference.model->item_table().weights, resumed.model->item_table().weights);
    EXPECT_EQ(without_timings(reference.metrics), without_timings(resumed.metrics));
  }
  // A checkpoint of in-memory training does not resume on the store (other data).
  const fs::path mem = dir_ / "mem";
  Checkpointing mc = cp;
  mc.dir = mem.string();
  mc.on_write = {};
  train_and_evaluate(sc, d, "joint", {}, &mc);
  const ResumePoint point = find_resume_point(mem.string());
  Checkpointing resume = mc;
  resume.resume = &point;
  EXPECT_THROW(train_and_evaluate_store(sc, s, "joint", {}, &resume), Error);
}

TEST_F(StoreTrainingTest, AStoreTrainedModelSavesTheSameBytesWithoutHoldingItsSeenItems) {
  ExperimentConfig c = config("kerasrs");
  c.exclude_seen = true;
  const PreparedData d = prepare_data(c);
  const PreparedStore s = store_for(c, d, "s");
  const ExperimentConfig sc = with_store_data(c, s);
  auto [disk, disk_result] = train_and_evaluate_store(sc, s, "joint");
  ASSERT_NE(disk.seen_reader, nullptr);
  EXPECT_TRUE(disk.seen_items.empty());
  // A store written before the index: built in memory, the same training
  // and evaluation.
  const std::string old_path = (dir_ / "old").string();
  fs::copy(dir_ / "s", old_path);
  drop_seen_index(old_path);
  const PreparedStore old_store = open_prepared_store(old_path);
  ASSERT_FALSE(old_store.has_seen_index);
  auto [old, old_result] = train_and_evaluate_store(sc, old_store, "joint");
  EXPECT_EQ(old.seen_reader, nullptr);
  EXPECT_EQ(without_timings(old.metrics), without_timings(disk.metrics));
  // exclude_seen evaluation equals in-memory training's.
  const auto [mem, mem_result] = train_and_evaluate(c, d, "joint");
  EXPECT_EQ(without_timings(mem.metrics), without_timings(disk.metrics));
  EXPECT_EQ(mem_result.eval.topk_accuracy, disk_result.eval.topk_accuracy);

  // Streamed from the store == the in-memory bundle encoded == the same
  // model holding its seen items in memory, byte for byte.
  const fs::path streamed = dir_ / "streamed.tandem", held = dir_ / "held.tandem";
  save_model(streamed.string(), disk);
  const std::string bytes = slurp(streamed);
  EXPECT_EQ(bytes, encode_model(model_bundle(disk)));
  old.metrics = disk.metrics;  // the timings differ
  save_model(held.string(), old);
  EXPECT_EQ(slurp(held), bytes);

  // The saved file holds the index; evaluating and recommending from it
  // with exclude_seen equals doing so from the store-backed model.
  TrainedModel loaded = load_model(streamed.string());
  EXPECT_EQ(loaded.seen_items, all_seen(disk));
  EXPECT_EQ(loaded.seen_offsets, disk.seen_offsets);
  EXPECT_EQ(loaded.item_train_counts, disk.item_train_counts);
  const SeenItems seen{loaded.seen_offsets, loaded.seen_items};
  const EvalResult again = evaluate(*loaded.model, loaded.config, loaded.catalogue, d.test, d.test_ratings, {}, &seen);
  EXPECT_EQ(again.topk_accuracy, disk_result.eval.topk_accuracy);
  EXPECT_EQ(again.rmse, disk_result.eval.rmse);
  const Recommender from_store(std::move(disk));
  const Recommender from_file(std::move(loaded));
  int with_seen = 0;
  const TrainedModel& held_model = from_file.model();
  for (int64_t user = 1; user <= 20; ++user) {
    const auto row = held_model.users.find(user);
    if (!row) continue;
    const auto a = from_store.recommend(std::to_string(user), 5, 20, true);
    const auto b = from_file.recommend(std::to_string(user), 5, 20, true);
    ASSERT_EQ(a.items.size(), b.items.size());
    for (size_t i = 0; i < a.items.size(); ++i) EXPECT_EQ(a.items[i].item_id, b.items[i].item_id);
    const auto r = static_cast<size_t>(*row);
    with_seen += held_model.seen_offsets[r + 1] > held_model.seen_offsets[r] ? 1 : 0;
  }
  EXPECT_GT(with_seen, 0);
}

TEST_F(StoreTrainingTest, TheMemoryEstimateCountsBuffersNotExamples) {
  ExperimentConfig c = config("kerasrs");
  const StreamShape shape{65536, 4};
  const int64_t buffers = stream_buffer_bytes(shape, true, false);
  EXPECT_EQ(buffers, 65536 * 4 * (3 * 20 + 4));
  const auto small = estimate_store_training_memory(c, 1000, 1000, 1000, buffers, 100);
  const auto large = estimate_store_training_memory(c, 1000, 1000, 1000000, buffers, 100);
  bool has_buffers = false;
  for (const auto& p : small.parts) has_buffers |= p.what.find("streaming buffers") != std::string::npos;
  EXPECT_TRUE(has_buffers);
  // A million more examples add only their seen-items index (4 bytes each).
  EXPECT_EQ(large.total() - small.total(), (1000000 - 1000) * 4);
  c.memory_budget_bytes = small.total() - 1;
  EXPECT_THROW(check_store_training_resources(c, 100, small), Error);
  c.memory_budget_bytes = small.total();
  EXPECT_NO_THROW(check_store_training_resources(c, 100, small));
}

TEST_F(StoreTrainingTest, WithTheIndexInTheStoreTheEstimateCountsOnlyTheEvaluatedUsersSeenItems) {
  ExperimentConfig c = config("kerasrs");
  const int64_t buffers = stream_buffer_bytes({65536, 4}, true, false);
  // User row u saw u items: the 100 longest lists hold 900 + ... + 999.
  std::vector<int64_t> offsets(1001, 0);
  for (size_t u = 0; u < 1000; ++u) offsets[u + 1] = offsets[u] + static_cast<int64_t>(u);
  c.exclude_seen = true;
  const auto small = estimate_store_training_memory(c, 1000, 1000, 1000, buffers, 100, &offsets);
  const auto large = estimate_store_training_memory(c, 1000, 1000, 100000000, buffers, 100, &offsets);
  EXPECT_EQ(large.total(), small.total());  // the examples stay on disk
  c.exclude_seen = false;
  const auto plain = estimate_store_training_memory(c, 1000, 1000, 1000, buffers, 100, &offsets);
  EXPECT_EQ(small.total() - plain.total(), (900 + 999) * 100 / 2 * 4);
  // Without the stored index: the built index and its cursors.
  const auto built = estimate_store_training_memory(c, 1000, 1000, 1000, buffers, 100);
  EXPECT_EQ(built.total() - plain.total(), 1001 * 8 + 1000 * 4 + 1000 * 8 + 1001 * 8 - 1001 * 16 - 1000 * 16);
}

}  // namespace
}  // namespace tandem
