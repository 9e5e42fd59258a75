#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io/model_file_helpers.h"
#include "support/dead_pid.h"
#include "support/special_files.h"
#include "support/temp_dir.h"
#include "tandem/core/error.h"
#include "tandem/io/model_file.h"

namespace tandem_test {
namespace {

namespace fs = std::filesystem;
using tandem::testing::TempDir;
using tandem::ModelBundle;
using tandem::read_model_file;
using tandem::write_model_file;

class ModelFileDisk : public ::testing::Test {
 protected:

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::vector<std::string> leftovers() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
      const std::string name = e.path().filename().string();
      if (name.find(".tmp.") != std::string::npos) out.push_back(name);
    }
    return out;
  }

  static std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  static void spit(const std::string& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

  TempDir scratch_{"tandem_io_test"};
  const fs::path& dir_ = scratch_.path();
};

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

ModelBundle small_bundle() {
  ModelBundle b;
  b.metadata = {{"note", "small"}};
  b.tensors = {{"w", {2}, {1.0f, 2.0f}}};
  return b;
}

ModelBundle big_bundle() {
  ModelBundle b = sample_bundle();
  b.tensors.push_back({"wide", {300, 50}, std::vector<float>(15000, 0.25f)});
  return b;
}

TEST_F(ModelFileDisk, WriteThenReadRoundTrips) {
  const std::string p = path("model.tdm");
  write_model_file(p, sample_bundle());
  expect_same(sample_bundle(), read_model_file(p));
  EXPECT_EQ(slurp(p), tandem::encode_model(sample_bundle()));
  EXPECT_TRUE(leftovers().empty());
}

TEST_F(ModelFileDisk, OverwriteReplacesContentCompletely) {
  const std::string p = path("model.tdm");
  write_model_file(p, big_bundle());
  const auto big_size = fs::file_size(p);
  write_model_file(p, small_bundle());
  EXPECT_LT(fs::file_size(p), big_size);
  EXPECT_EQ(slurp(p), tandem::encode_model(small_bundle()));
  expect_same(small_bundle(), read_model_file(p));
  EXPECT_TRUE(leftovers().empty());
}

TEST_F(ModelFileDisk, WriteIntoMissingDirectoryFailsNamingThePath) {
  const std::string p = path("no/such/dir/model.tdm");
  const std::string msg = error_of([&] { write_model_file(p, small_bundle()); });
  EXPECT_TRUE(starts_with(msg, p + ": ")) << msg;
  EXPECT_TRUE(has(msg, "No such file or directory")) << msg;
  EXPECT_FALSE(fs::exists(dir_ / "no"));
}

TEST_F(ModelFileDisk, InvalidBundleLeavesTheExistingFileIntact) {
  const std::string p = path("model.tdm");
  write_model_file(p, sample_bundle());
  const std::string before = slurp(p);

  ModelBundle bad = small_bundle();
  bad.tensors[0].shape = {3};
  const std::string msg = error_of([&] { write_model_file(p, bad); });
  EXPECT_TRUE(starts_with(msg, p + ": tensor 'w'")) << msg;
  EXPECT_EQ(slurp(p), before);
  EXPECT_TRUE(leftovers().empty());
}

TEST_F(ModelFileDisk, FailedRenameRemovesTheTemporary) {
  // A non-empty directory at the target: the temporary is written and synced,
  // then the rename fails, which exercises the late cleanup path.
  const std::string p = path("model.tdm");
  fs::create_directories(dir_ / "model.tdm");
  spit(path("model.tdm/keep"), "keep me");
  const std::string msg = error_of([&] { write_model_file(p, small_bundle()); });
  EXPECT_TRUE(starts_with(msg, p + ": cannot replace the file")) << msg;
  EXPECT_TRUE(leftovers().empty());
  EXPECT_EQ(slurp(path("model.tdm/keep")), "keep me");
}

TEST_F(ModelFileDisk, MissingFileIsAClearError) {
  const std::string p = path("absent.tdm");
  const std::string msg = error_of([&] { read_model_file(p); });
  EXPECT_EQ(msg, p + ": cannot open model file: No such file or directory");
}

TEST_F(ModelFileDisk, DirectoryIsAClearError) {
  const std::string msg = error_of([&] { read_model_file(dir_.string()); });
  EXPECT_EQ(msg, dir_.string() + ": cannot read model file: not a regular file (a directory)");
}

// `tandem recommend --model /dev/zero` once read forever. Devices and FIFOs
// are refused by name, before a byte is read; each read runs in a child that
// an alarm ends, so a regression fails here instead of hanging.
TEST_F(ModelFileDisk, DevicesAndFifosAreRefusedWithoutReading) {
  for (const std::string device : {"/dev/zero", "/dev/urandom"}) {
    if (!fs::exists(device)) continue;
    const tandem::testing::BoundedCall r =
        tandem::testing::call_within(10, [&] { (void)read_model_file(device); });
    EXPECT_TRUE(r.finished) << device << " was read for 10 s";
    EXPECT_EQ(r.message, device + ": cannot read model file: not a regular file (a character device)");
  }
  tandem::testing::make_fifo(dir_ / "model.fifo");
  const tandem::testing::BoundedCall r =
      tandem::testing::call_within(10, [&] { (void)read_model_file(path("model.fifo")); });
  EXPECT_TRUE(r.finished) << "waited 10 s on a FIFO";
  EXPECT_EQ(r.message, path("model.fifo") + ": cannot read model file: not a regular file (a FIFO)");
}

// kill -9 during a save leaves `PATH.tmp.PID.N` beside the model. The next
// save of the same path removes such files whose writer is gone, and keeps
// a live writer's temporary, our own, and every other file.
TEST_F(ModelFileDisk, ASaveRemovesTheTemporariesOfKilledSavesOfThePath) {
  const std::string p = path("model.tdm");
  const std::string dead = std::to_string(tandem::testing::dead_pid());
  const std::vector<std::string> orphans = {"model.tdm.tmp." + dead + ".0", "model.tdm.tmp." + dead + ".1"};
  const std::vector<std::string> kept = {"model.tdm.tmp.1.0",  // init is alive
                                         "model.tdm.tmp." + std::to_string(::getpid()) + ".500",
                                         "other.tdm.tmp." + dead + ".0", "model.tdm.notes"};
  for (const auto& name : orphans) spit(path(name), "half a model");
  for (const auto& name : kept) spit(path(name), "keep me");
  write_model_file(p, small_bundle());
  for (const auto& name : orphans) EXPECT_FALSE(fs::exists(path(name))) << name;
  for (const auto& name : kept) EXPECT_EQ(slurp(path(name)), "keep me") << name;
  expect_same(small_bundle(), read_model_file(p));
}

TEST_F(ModelFileDisk, EmptyAndForeignFilesAreRefused) {
  spit(path("empty.tdm"), "");
  EXPECT_TRUE(starts_with(error_of([&] { read_model_file(path("empty.tdm")); }),
                          path("empty.tdm") + ": truncated: "));
  spit(path("ratings.csv"), "user,item,rating\n1,2,5\n");
  EXPECT_EQ(error_of([&] { read_model_file(path("ratings.csv")); }),
            path("ratings.csv") + ": not a Tandem model file (bad magic)");
}

TEST_F(ModelFileDisk, CorruptionOnDiskNamesTheFile) {
  const std::string p = path("model.tdm");
  write_model_file(p, sample_bundle());
  std::string bytes = slurp(p);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x10);
  spit(p, bytes);
  EXPECT_EQ(error_of([&] { read_model_file(p); }), p + ": checksum mismatch: file is corrupt");

  spit(p, bytes.substr(0, bytes.size() - 3));
  EXPECT_TRUE(starts_with(error_of([&] { read_model_file(p); }), p + ": truncated: "));
}

TEST_F(ModelFileDisk, RelativePathInCurrentDirectory) {
  // The temporary goes beside the target even when the path has no directory.
  const fs::path old = fs::current_path();
  fs::current_path(dir_);
  write_model_file("rel.tdm", small_bundle());
  const ModelBundle back = read_model_file("rel.tdm");
  fs::current_path(old);
  expect_same(small_bundle(), back);
  EXPECT_TRUE(leftovers().empty());
}

}  // namespace
}  // namespace tandem_test
