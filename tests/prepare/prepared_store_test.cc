// The example store: round trip of every column, the vocabularies, the
// catalogue and the training-interaction index; refusal (naming the file) of
// corrupt, truncated, missing and mismatched files, and of an index whose
// checksums match but whose content is inconsistent; nothing left that looks
// like a store when writing fails.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <numeric>

#include "support/dead_pid.h"
#include "support/special_files.h"
#include "support/tiny_movielens.h"
#include "tandem/core/error.h"
#include "tandem/io/checksum.h"
#include "tandem/prepare/prepared_store.h"
#include "tandem/prepare/training_interactions.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

class PreparedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tandem_store_" + std::to_string(::getpid()));
    testing::write_tiny_movielens(dir_ / "data");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string store(const char* name = "s") const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(PreparedStoreTest, RoundTripsEveryColumnVocabularyAndTheCatalogue) {
  for (const char* preset : {"kerasrs", "tfrs"}) {
    SCOPED_TRACE(preset);
    const ExperimentConfig c = testing::tiny_config(preset, dir_ / "data");
    const PreparedData d = prepare_data(c);
    const std::string path = store(preset);
    write_prepared_store(path, c, d);
    const PreparedStore s = open_prepared_store(path);
    ASSERT_EQ(s.train.rows, static_cast<int64_t>(d.train.size()));
    ASSERT_EQ(s.test.rows, static_cast<int64_t>(d.test.size()));
    EXPECT_TRUE(s.train.timestamps);
    EXPECT_FALSE(s.train.weights);
    Examples train;
    train.users.resize(d.train.size());
    train.items.resize(d.train.size());
    train.labels.resize(d.train.size());
    train.timestamps.resize(d.train.size());
    read_store_rows(s, s.train, 0, s.train.rows, train.users.data(), train.items.data(), train.labels.data(),
                    train.timestamps.data(), nullptr);
    EXPECT_EQ(train.users, d.train.users);
    EXPECT_EQ(train.items, d.train.items);
    EXPECT_EQ(train.labels, d.train.labels);
    EXPECT_EQ(train.timestamps, d.train.timestamps);
    // A range from the middle.
    std::vector<int32_t> u(5), it(5);
    std::vector<float> l(5);
    read_store_rows(s, s.train, 100, 5, u.data(), it.data(), l.data(), nullptr, nullptr);
    EXPECT_EQ(u, std::vector<int32_t>(d.train.users.begin() + 100, d.train.users.begin() + 105));
    Examples test;
    std::vector<float> ratings;
    read_store_test(s, 0, test, ratings);
    EXPECT_EQ(test.users, d.test.users);
    EXPECT_EQ(test.items, d.test.items);
    EXPECT_EQ(test.labels, d.test.labels);
    EXPECT_EQ(ratings, d.test_ratings);
    read_store_test(s, 7, test, ratings);
    EXPECT_EQ(test.users, std::vector<int32_t>(d.test.users.begin(), d.test.users.begin() + 7));
    EXPECT_EQ(ratings.size(), 7u);
    EXPECT_EQ(s.users.kind(), d.users.kind());
    EXPECT_EQ(s.users.rows(), d.users.rows());
    EXPECT_EQ(s.users.defining_ids(), d.users.defining_ids());
    EXPECT_EQ(s.items.kind(), d.items.kind());
    EXPECT_EQ(s.items.defining_ids(), d.items.defining_ids());
    EXPECT_EQ(s.items.defining_rows(), d.items.defining_rows());
    EXPECT_EQ(s.catalogue.items.item_ids, d.catalogue.items.item_ids);
    EXPECT_EQ(s.catalogue.items.titles, d.catalogue.items.titles);
    EXPECT_EQ(s.catalogue.rows, d.catalogue.rows);
    EXPECT_EQ(s.catalogue.candidate_rows, d.catalogue.candidate_rows);
    EXPECT_EQ(s.coverage.to_json(), d.coverage.to_json());
    EXPECT_EQ(s.source, d.source);
    // The store's data settings replace a run's.
    ExperimentConfig other = preset_config(std::string(preset) == "tfrs" ? "kerasrs" : "tfrs");
    other.memory_budget_bytes = 123456789;  // not in the config JSON: must stay the run's
    other.threads = 3;
    const ExperimentConfig merged = with_store_data(other, s);
    EXPECT_EQ(merged.id_mode, c.id_mode);
    EXPECT_EQ(merged.label_transform, c.label_transform);
    EXPECT_EQ(merged.train_count, c.train_count);
    EXPECT_EQ(merged.data_dir, c.data_dir);
    EXPECT_EQ(merged.optimizer.kind, other.optimizer.kind);
    EXPECT_EQ(merged.memory_budget_bytes, 123456789);
    EXPECT_EQ(merged.threads, 3);
  }
}

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The loader parses in pieces on every thread (data/chunked_text.h): the
// store must not depend on how many. The manifest lists every file's xxh64,
// so equal manifests mean byte-identical stores. With a time split too, whose
// order depends on the rows' order; and through the csv format.
TEST_F(PreparedStoreTest, OneAndSeveralLoaderThreadsWriteTheSameStore) {
  {
    std::ofstream csv(dir_ / "r.csv");
    csv << "user,item,stars,when\n";
    for (int i = 0; i < 900; ++i) csv << i % 37 << "," << (i * 7) % 53 << "," << 1 + i % 5 << "," << 1000 + i % 97 << "\n";
  }
  for (const char* variant : {"seeded", "time", "csv"}) {
    SCOPED_TRACE(variant);
    std::vector<std::string> manifests;
    for (const int threads : {1, 2, 3}) {
      ExperimentConfig c = testing::tiny_config("kerasrs", dir_ / "data");
      if (std::string(variant) == "time") c.split = SplitStrategy::kTime;
      if (std::string(variant) == "csv") {
        c.data_format = "csv";
        c.csv.ratings_file = (dir_ / "r.csv").string();
        c.csv.user = ColumnRef::named("user");
        c.csv.item = ColumnRef::named("item");
        c.csv.rating = ColumnRef::named("stars");
        c.csv.timestamp = ColumnRef::named("when");
        c.train_count = 700;
      }
      c.threads = threads;
      const std::string path = store((std::string(variant) + std::to_string(threads)).c_str());
      write_prepared_store(path, c, prepare_data(c));
      manifests.push_back(file_text(path + "/manifest.json"));
      EXPECT_NE(manifests.back().find("xxh64"), std::string::npos);
    }
    EXPECT_EQ(manifests[1], manifests[0]);
    EXPECT_EQ(manifests[2], manifests[0]);
  }
}

TEST_F(PreparedStoreTest, RefusesAnExistingDirectoryAndLeavesNoHalfStore) {
  const ExperimentConfig c = testing::tiny_config("kerasrs", dir_ / "data");
  const PreparedData d = prepare_data(c);
  write_prepared_store(store(), c, d);
  EXPECT_NE(error_of([&] { write_prepared_store(store(), c, d); }).find("already exists"), std::string::npos);
  // A writer that never commits (a killed prepare) leaves no directory at
  // the target and removes its temporary.
  {
    ColumnStoreWriter w(store("half"));
    w.append("train.users.i32", "abcd", 4);
  }
  EXPECT_FALSE(fs::exists(store("half")));
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
  // A directory without a manifest (say, a copy interrupted) is not a store.
  fs::create_directories(store("bare"));
  EXPECT_NE(error_of([&] { open_prepared_store(store("bare")); }).find("manifest.json: missing"), std::string::npos);
  EXPECT_NE(error_of([&] { open_prepared_store(store("nowhere")); }).find("no such store"), std::string::npos);
}

// A prepare killed mid-write leaves `<store>.tmp.<pid>`; the next writer of
// the same store removes it once that pid no longer runs, and keeps a live
// writer's temporary and everything else.
TEST_F(PreparedStoreTest, AKilledWritersTemporaryDirectoryIsRemovedByTheNextWriter) {
  const std::string dead = std::to_string(testing::dead_pid());
  const fs::path orphan = store("s") + (".tmp." + dead), live = store("s") + ".tmp.1";
  const fs::path other = store("t") + (".tmp." + dead);
  for (const fs::path& d : {orphan, live, other}) {
    fs::create_directories(d);
    std::ofstream(d / "train.users.i32") << "half";
  }
  {
    ColumnStoreWriter w(store("s"));
    w.append("train.users.i32", "abcd", 4);
    w.commit(nlohmann::json::object());
  }
  EXPECT_FALSE(fs::exists(orphan));
  EXPECT_TRUE(fs::exists(live / "train.users.i32"));
  EXPECT_TRUE(fs::exists(other / "train.users.i32"));
  EXPECT_TRUE(fs::exists(fs::path(store("s")) / "train.users.i32"));
}

// A file the manifest lists, replaced by a FIFO, is refused by name rather
// than opened (which would wait for a writer); so is a FIFO manifest.
TEST_F(PreparedStoreTest, AListedFileOrManifestThatIsAFifoIsRefused) {
  {
    ColumnStoreWriter w(store("s"));
    w.append("train.users.i32", "abcd", 4);
    w.commit(nlohmann::json::object());
  }
  const fs::path column = fs::path(store("s")) / "train.users.i32";
  fs::remove(column);
  testing::make_fifo(column);
  const testing::BoundedCall r = testing::call_within(10, [&] { (void)ColumnStore::open(store("s")); });
  EXPECT_TRUE(r.finished) << "opening the store waited 10 s on a FIFO";
  EXPECT_EQ(r.message, column.string() + ": cannot read a file the store lists: not a regular file (a FIFO)");
  const fs::path manifest = fs::path(store("s")) / kColumnStoreManifest;
  fs::remove(manifest);
  testing::make_fifo(manifest);
  const testing::BoundedCall m = testing::call_within(10, [&] { (void)ColumnStore::open(store("s")); });
  EXPECT_TRUE(m.finished) << "opening the store waited 10 s on a FIFO manifest";
  EXPECT_EQ(m.message, manifest.string() + ": cannot read store manifest: not a regular file (a FIFO)");
}

TEST_F(PreparedStoreTest, CorruptTruncatedMissingAndMismatchedFilesAreRefusedByName) {
  const ExperimentConfig c = testing::tiny_config("kerasrs", dir_ / "data");
  const PreparedData d = prepare_data(c);
  const auto fresh = [&](const char* name) {
    const std::string p = store(name);
    write_prepared_store(p, c, d);
    return p;
  };
  {  // one flipped bit
    const std::string p = fresh("flip");
    std::fstream f(p + "/train.items.i32", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(17);
    f.put('\x7f');
    f.close();
    const std::string e = error_of([&] { open_prepared_store(p); });
    EXPECT_NE(e.find("train.items.i32: checksum mismatch"), std::string::npos) << e;
  }
  {  // truncated
    const std::string p = fresh("trunc");
    fs::resize_file(p + "/train.labels.f32", 100);
    const std::string e = error_of([&] { open_prepared_store(p); });
    EXPECT_NE(e.find("train.labels.f32: 100 bytes, the manifest says"), std::string::npos) << e;
  }
  {  // missing
    const std::string p = fresh("missing");
    fs::remove(p + "/test.users.i32");
    const std::string e = error_of([&] { open_prepared_store(p); });
    EXPECT_NE(e.find("test.users.i32: cannot open"), std::string::npos) << e;
  }
  {  // the manifest's row count disagrees with the columns
    const std::string p = fresh("rows");
    std::ifstream in(p + "/manifest.json");
    auto m = nlohmann::json::parse(in);
    in.close();
    m["meta"]["train"]["rows"] = m["meta"]["train"]["rows"].get<int64_t>() - 1;
    std::ofstream(p + "/manifest.json", std::ios::trunc) << m.dump();
    const std::string e = error_of([&] { open_prepared_store(p); });
    EXPECT_NE(e.find("train.users.i32: "), std::string::npos) << e;
    EXPECT_NE(e.find("row counts"), std::string::npos) << e;
  }
  {  // another format version, and a truncated manifest
    const std::string p = fresh("version");
    std::ifstream in(p + "/manifest.json");
    auto m = nlohmann::json::parse(in);
    in.close();
    m["version"] = 99;
    std::ofstream(p + "/manifest.json", std::ios::trunc) << m.dump();
    std::string e = error_of([&] { open_prepared_store(p); });
    EXPECT_NE(e.find("manifest.json: format version 99"), std::string::npos) << e;
    fs::resize_file(p + "/manifest.json", 40);
    e = error_of([&] { open_prepared_store(p); });
    EXPECT_NE(e.find("manifest.json: unreadable store manifest"), std::string::npos) << e;
  }
}

// Replaces a store file's bytes and updates the manifest's size and
// checksum, so that what is tested is the check behind the checksum.
template <typename T>
void rewrite_column(const std::string& store, const std::string& name, const std::vector<T>& values) {
  const std::string bytes(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
  std::ofstream(store + "/" + name, std::ios::binary | std::ios::trunc) << bytes;
  std::ifstream in(store + "/manifest.json");
  auto m = nlohmann::json::parse(in);
  in.close();
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(xxh64(bytes.data(), bytes.size())));
  for (auto& f : m["files"])
    if (f["name"] == name) {
      f["bytes"] = bytes.size();
      f["xxh64"] = hex;
    }
  std::ofstream(store + "/manifest.json", std::ios::trunc) << m.dump();
}

// Removes files from the store and its manifest (a store written before
// they existed).
void drop_files(const std::string& store, const std::vector<std::string>& names) {
  std::ifstream in(store + "/manifest.json");
  auto m = nlohmann::json::parse(in);
  in.close();
  nlohmann::json kept = nlohmann::json::array();
  for (const auto& f : m["files"])
    if (std::find(names.begin(), names.end(), f["name"].get<std::string>()) == names.end()) kept.push_back(f);
  m["files"] = kept;
  std::ofstream(store + "/manifest.json", std::ios::trunc) << m.dump();
  for (const auto& n : names) fs::remove(store + "/" + n);
}

template <typename T>
std::vector<T> column(const PreparedStore& s, const char* name) {
  std::vector<T> v(static_cast<size_t>(s.files.bytes(name)) / sizeof(T));
  s.files.read(name, 0, v.data(), static_cast<int64_t>(v.size() * sizeof(T)));
  return v;
}

TEST_F(PreparedStoreTest, StoresTheTrainingInteractionIndex) {
  for (const char* preset : {"kerasrs", "tfrs"}) {
    SCOPED_TRACE(preset);
    const ExperimentConfig c = testing::tiny_config(preset, dir_ / "data");
    const PreparedData d = prepare_data(c);
    const std::string path = store(preset);
    write_prepared_store(path, c, d);
    const PreparedStore s = open_prepared_store(path);
    const TrainingInteractions expected = index_training_interactions(d.train, d.users.rows(), d.items.rows());
    ASSERT_TRUE(s.has_seen_index);
    EXPECT_EQ(s.item_train_counts, expected.item_counts);
    EXPECT_EQ(s.seen_offsets, expected.seen_offsets);
    EXPECT_EQ(s.seen_pairs, static_cast<int64_t>(expected.seen_items.size()));
    EXPECT_EQ(column<int32_t>(s, kStoreSeenItems), expected.seen_items);
    // Hand-checked against the examples: user row u saw item row i in
    // training iff (u, i) is an example; counts are per example.
    for (size_t k = 0; k < d.train.size(); k += 97) {
      const auto u = static_cast<size_t>(d.train.users[k]);
      const auto b = expected.seen_items.begin() + expected.seen_offsets[u];
      const auto e = expected.seen_items.begin() + expected.seen_offsets[u + 1];
      EXPECT_TRUE(std::binary_search(b, e, d.train.items[k]));
    }
    EXPECT_EQ(std::accumulate(s.item_train_counts.begin(), s.item_train_counts.end(), int64_t{0}), s.train.rows);
  }
}

TEST_F(PreparedStoreTest, AStoreWithoutTheIndexStillOpens) {
  const ExperimentConfig c = testing::tiny_config("kerasrs", dir_ / "data");
  const PreparedData d = prepare_data(c);
  write_prepared_store(store(), c, d);
  drop_files(store(), {kStoreItemCounts, kStoreSeenOffsets, kStoreSeenItems});
  const PreparedStore s = open_prepared_store(store());
  EXPECT_FALSE(s.has_seen_index);
  EXPECT_TRUE(s.seen_offsets.empty());
}

TEST_F(PreparedStoreTest, AnInconsistentIndexIsRefusedNamingTheFile) {
  const ExperimentConfig c = testing::tiny_config("kerasrs", dir_ / "data");
  const PreparedData d = prepare_data(c);
  const TrainingInteractions good = index_training_interactions(d.train, d.users.rows(), d.items.rows());
  int n = 0;
  const auto refused = [&](const std::function<void(const std::string&)>& damage) {
    const std::string p = store(("ix" + std::to_string(n++)).c_str());
    write_prepared_store(p, c, d);
    damage(p);
    return error_of([&] { open_prepared_store(p); });
  };
  std::string e = refused([&](const std::string& p) {
    auto items = good.seen_items;
    items[5] = static_cast<int32_t>(d.items.rows());
    rewrite_column(p, kStoreSeenItems, items);
  });
  EXPECT_NE(e.find("train.seen_items.i32: entry 5 is row " + std::to_string(d.items.rows()) +
                   ", outside the item table"), std::string::npos) << e;
  e = refused([&](const std::string& p) {
    auto items = good.seen_items;
    items[3] = -1;
    rewrite_column(p, kStoreSeenItems, items);
  });
  EXPECT_NE(e.find("train.seen_items.i32: entry 3 is row -1"), std::string::npos) << e;
  e = refused([&](const std::string& p) {
    auto offsets = good.seen_offsets;
    std::swap(offsets[1], offsets[2]);
    if (offsets[1] == offsets[2]) offsets[1] += 1;
    rewrite_column(p, kStoreSeenOffsets, offsets);
  });
  EXPECT_NE(e.find("train.seen_offsets.i64: does not index"), std::string::npos) << e;
  e = refused([&](const std::string& p) {
    auto items = good.seen_items;
    items.pop_back();
    rewrite_column(p, kStoreSeenItems, items);
  });
  EXPECT_NE(e.find("train.seen_offsets.i64: does not index the " + std::to_string(good.seen_items.size() - 1)),
            std::string::npos) << e;
  e = refused([&](const std::string& p) {
    auto counts = good.item_counts;
    counts[0] += 1;
    rewrite_column(p, kStoreItemCounts, counts);
  });
  EXPECT_NE(e.find("train.item_counts.i64: the counts"), std::string::npos) << e;
  e = refused([&](const std::string& p) {
    auto offsets = good.seen_offsets;
    offsets.pop_back();
    rewrite_column(p, kStoreSeenOffsets, offsets);
  });
  EXPECT_NE(e.find("train.seen_offsets.i64: "), std::string::npos) << e;
  EXPECT_NE(e.find("expected " + std::to_string(d.users.rows() + 1) + " values"), std::string::npos) << e;
  e = refused([&](const std::string& p) { drop_files(p, {kStoreSeenItems}); });
  EXPECT_NE(e.find("train.seen_items.i32: missing; the store has only part"), std::string::npos) << e;
  e = refused([&](const std::string& p) {
    std::fstream f(p + "/" + kStoreSeenItems, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(2);
    f.put('\x55');
  });
  EXPECT_NE(e.find("train.seen_items.i32: checksum mismatch"), std::string::npos) << e;
}

// Hand-checked: three users' filled ranges, one empty, with repeats and
// out of order, come out sorted, distinct and packed to the front.
TEST(SortAndPackSeen, SortsDropsRepeatsAndPacksInUserOrder) {
  std::vector<int64_t> offsets = {0, 4, 4, 7};
  std::vector<int32_t> items = {5, 2, 5, 1, 9, 3, 9};
  sort_and_pack_seen(offsets, items);
  EXPECT_EQ(offsets, (std::vector<int64_t>{0, 3, 3, 5}));
  EXPECT_EQ(items, (std::vector<int32_t>{1, 2, 5, 3, 9}));
  std::vector<int64_t> none = {0};
  std::vector<int32_t> empty;
  sort_and_pack_seen(none, empty);
  EXPECT_EQ(none, (std::vector<int64_t>{0}));
  EXPECT_TRUE(empty.empty());
}

}  // namespace
}  // namespace tandem
