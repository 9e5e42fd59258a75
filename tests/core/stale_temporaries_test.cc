// The temporaries a killed writer leaves beside its target are removed by the
// next write to the same target, and nothing else is: not a live writer's
// temporary (another process's or our own), not another target's, not a
// name of another shape, not a directory where a file was expected.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/dead_pid.h"
#include "support/temp_dir.h"
#include "tandem/core/atomic_file.h"
#include "tandem/core/stale_temporaries.h"

namespace tandem::testing {
namespace {

namespace fs = std::filesystem;

class StaleTemporaries : public ::testing::Test {
 protected:
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  void touch(const std::string& name) const { std::ofstream(path(name)) << "partial"; }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  TempDir scratch_{"tandem_stale_tmp"};
  const fs::path& dir_ = scratch_.path();
};

TEST(TemporaryWriterPid, ReadsThePidOfBothShapesAndNothingElse) {
  EXPECT_EQ(temporary_writer_pid("m.tandem.tmp.1234.0", "m.tandem"), 1234);
  EXPECT_EQ(temporary_writer_pid("m.tandem.tmp.1234.17", "m.tandem"), 1234);
  EXPECT_EQ(temporary_writer_pid("store.tmp.99", "store"), 99);  // ColumnStoreWriter's directory
  EXPECT_EQ(temporary_writer_pid("m.tandem", "m.tandem"), -1);
  EXPECT_EQ(temporary_writer_pid("m.tandem.tmp.", "m.tandem"), -1);
  EXPECT_EQ(temporary_writer_pid("m.tandem.tmp.12a.0", "m.tandem"), -1);
  EXPECT_EQ(temporary_writer_pid("m.tandem.tmp.12.x", "m.tandem"), -1);
  EXPECT_EQ(temporary_writer_pid("m.tandem.tmp.12.", "m.tandem"), -1);
  EXPECT_EQ(temporary_writer_pid("m.tandem.tmp.12.0.1", "m.tandem"), -1);
  EXPECT_EQ(temporary_writer_pid("m.tandem.tmp.0.0", "m.tandem"), -1);  // pid 0 is a group
  EXPECT_EQ(temporary_writer_pid("m.tandem.tmp.1234567890.0", "m.tandem"), -1);  // too long
  EXPECT_EQ(temporary_writer_pid("xm.tandem.tmp.12.0", "m.tandem"), -1);
  EXPECT_EQ(temporary_writer_pid("m.tandem.tmp.12.0", "m.tan"), -1);
  EXPECT_EQ(temporary_writer_pid("m.tandem.tmp.12.0", ""), -1);
}

TEST(ProcessIsGone, OnlyForAPidWithNoProcess) {
  EXPECT_FALSE(process_is_gone(::getpid()));
  EXPECT_FALSE(process_is_gone(1));  // init: alive (EPERM for a non-root user is alive too)
  EXPECT_FALSE(process_is_gone(0));
  EXPECT_FALSE(process_is_gone(-1));
  EXPECT_TRUE(process_is_gone(dead_pid()));
}

TEST(NewTemporaryPath, CarriesThePidAndIsUniquePerCall) {
  const std::string a = new_temporary_path("/x/m.tandem"), b = new_temporary_path("/x/m.tandem");
  EXPECT_NE(a, b);
  EXPECT_EQ(temporary_writer_pid(fs::path(a).filename().string(), "m.tandem"), ::getpid());
  EXPECT_EQ(temporary_writer_pid(fs::path(b).filename().string(), "m.tandem"), ::getpid());
}

TEST_F(StaleTemporaries, ListsOnlyDeadWritersTemporariesOfTheTarget) {
  const std::string dead = std::to_string(dead_pid());
  const std::string self = std::to_string(::getpid());
  touch("m.tandem.tmp." + dead + ".0");
  touch("m.tandem.tmp." + dead + ".5");
  touch("m.tandem.tmp.1.0");                    // init's: a live process
  touch("m.tandem.tmp." + self + ".9");         // ours: a write in progress
  touch("other.tandem.tmp." + dead + ".0");     // another target's
  touch("m.tandem.tmp." + dead + ".notes");     // another shape
  touch("m.tandem");
  std::vector<std::string> stale;
  for (const auto& p : stale_temporaries(path("m.tandem"))) stale.push_back(fs::path(p).filename().string());
  std::sort(stale.begin(), stale.end());
  EXPECT_EQ(stale, (std::vector<std::string>{"m.tandem.tmp." + dead + ".0", "m.tandem.tmp." + dead + ".5"}));
  EXPECT_TRUE(stale_temporaries(path("missing-dir/m.tandem")).empty());
}

// A save (AtomicFile, under every model, checkpoint, export and index
// write) removes what a killed save of the same path left, and only that.
TEST_F(StaleTemporaries, AnAtomicWriteRemovesDeadWritersTemporariesAndKeepsTheRest) {
  const std::string dead = std::to_string(dead_pid());
  const std::string self = std::to_string(::getpid());
  const std::vector<std::string> orphans = {"m.tandem.tmp." + dead + ".0", "m.tandem.tmp." + dead + ".3"};
  for (const auto& o : orphans) touch(o);
  const std::vector<std::string> kept = {
      "m.tandem.tmp.1.0",                 // a live process's write in progress
      "m.tandem.tmp." + self + ".1000",   // this process's own
      "other.tandem.tmp." + dead + ".0",  // a dead writer of another target
      "m.tandem.tmp." + dead + ".x",      // not a name a writer makes
      "notes.txt"};
  for (const auto& k : kept) touch(k);
  fs::create_directory(dir_ / ("m.tandem.tmp." + dead + ".7"));  // a directory: not an AtomicFile's

  AtomicFile file(path("m.tandem"));
  file.write("model", 5);
  file.commit();

  std::vector<std::string> expected = kept;
  expected.push_back("m.tandem");
  expected.push_back("m.tandem.tmp." + dead + ".7");
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(names(), expected);
  std::ifstream in(path("m.tandem"));
  std::string content;
  std::getline(in, content);
  EXPECT_EQ(content, "model");
}

TEST_F(StaleTemporaries, RemoveStaleTemporaryFilesLeavesDirectoriesAndLinks) {
  const std::string dead = std::to_string(dead_pid());
  touch("target");
  fs::create_directory(dir_ / ("m.tandem.tmp." + dead + ".1"));
  fs::create_symlink(path("target"), path("m.tandem.tmp." + dead + ".2"));
  touch("m.tandem.tmp." + dead + ".3");
  remove_stale_temporary_files(path("m.tandem"));
  EXPECT_EQ(names(), (std::vector<std::string>{"m.tandem.tmp." + dead + ".1", "m.tandem.tmp." + dead + ".2",
                                               "target"}));
}

}  // namespace
}  // namespace tandem::testing
