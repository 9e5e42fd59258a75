// Where a run will write is checked before it starts: the directory must
// exist (or be creatable, for a directory the run makes), be a directory,
// and take a new file; the probe leaves nothing behind.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/dead_pid.h"
#include "support/special_files.h"
#include "support/error_of.h"
#include "support/temp_dir.h"
#include "tandem/core/error.h"
#include "tandem/core/writable_path.h"

namespace tandem::testing {
namespace {

namespace fs = std::filesystem;

class WritablePath : public ::testing::Test {
 protected:
  // A read-only subdirectory is made writable again so the scratch
  // directory can be removed.
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_ / "ro", fs::perms::owner_all, ec);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  size_t entries(const fs::path& d) const {
    return static_cast<size_t>(std::distance(fs::directory_iterator(d), fs::directory_iterator()));
  }
  TempDir scratch_{"tandem_writable"};
  const fs::path& dir_ = scratch_.path();
};

TEST_F(WritablePath, AWritableDirectoryPassesAndTheProbeLeavesNothing) {
  EXPECT_NO_THROW(require_creatable_file(path("m.tandem"), "--output"));
  { std::ofstream(path("old.tandem")) << "an earlier model"; }
  EXPECT_NO_THROW(require_creatable_file(path("old.tandem"), "--output"));  // replaced later
  EXPECT_NO_THROW(require_writable_directory(dir_.string(), "--checkpoint-dir"));
  EXPECT_EQ(entries(dir_), 1u);  // old.tandem alone
  EXPECT_FALSE(fs::exists(path("m.tandem")));
}

TEST_F(WritablePath, AMissingDirectoryToBeCreatedIsJudgedByItsNearestAncestor) {
  EXPECT_NO_THROW(require_writable_directory(path("a/b/ck"), "--checkpoint-dir"));
  EXPECT_NO_THROW(require_writable_directory(path("a/b/ck/"), "--checkpoint-dir"));
  EXPECT_FALSE(fs::exists(path("a")));  // checked, not created
  EXPECT_EQ(entries(dir_), 0u);
}

TEST_F(WritablePath, RelativePathsAreJudgedInTheCurrentDirectory) {
  const fs::path old = fs::current_path();
  fs::current_path(dir_);
  EXPECT_NO_THROW(require_creatable_file("m.tandem", "--output"));
  EXPECT_NO_THROW(require_writable_directory("ck", "--checkpoint-dir"));
  fs::current_path(old);
  EXPECT_EQ(entries(dir_), 0u);
}

TEST_F(WritablePath, AMissingParentDirectoryIsNamed) {
  const std::string p = path("nowhere/m.tandem");
  EXPECT_EQ(error_of([&] { require_creatable_file(p, "--output"); }),
            "--output " + p + ": cannot write there: no such directory " + path("nowhere"));
}

TEST_F(WritablePath, AParentThatIsAFileIsNamed) {
  { std::ofstream(path("plain")) << "x"; }
  EXPECT_EQ(error_of([&] { require_creatable_file(path("plain/m.tandem"), "--output"); }),
            "--output " + path("plain/m.tandem") + ": cannot write there: " + path("plain") +
                " is not a directory (a regular file)");
  EXPECT_EQ(error_of([&] { require_creatable_file(path("plain/sub/m.tandem"), "--output"); }),
            "--output " + path("plain/sub/m.tandem") + ": cannot write there: a component of " +
                path("plain/sub") + " is not a directory");
  EXPECT_EQ(error_of([&] { require_writable_directory(path("plain/ck"), "--checkpoint-dir"); }),
            "--checkpoint-dir " + path("plain/ck") + ": cannot write there: " + path("plain") +
                " is not a directory (a regular file)");
  EXPECT_EQ(error_of([&] { require_writable_directory(path("plain"), "--out"); }),
            "--out " + path("plain") + ": cannot write there: " + path("plain") +
                " is not a directory (a regular file)");
}

TEST_F(WritablePath, AnOutputThatIsNotARegularFileIsRefused) {
  fs::create_directory(dir_ / "sub");
  EXPECT_EQ(error_of([&] { require_creatable_file(path("sub"), "--output"); }),
            "--output " + path("sub") + ": cannot write there: it is a directory, not a regular file");
  make_fifo(dir_ / "pipe");
  EXPECT_EQ(error_of([&] { require_creatable_file(path("pipe"), "--output"); }),
            "--output " + path("pipe") + ": cannot write there: it is a FIFO, not a regular file");
}

// As root, permission bits do not stop a write (CAP_DAC_OVERRIDE), so a
// read-only directory cannot be shown refusing there: the check is skipped
// rather than faked. The probe itself is what decides, so root is judged by
// what root can really do.
TEST_F(WritablePath, AReadOnlyDirectoryIsPermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root: permission bits do not stop root's writes";
  fs::create_directory(dir_ / "ro");
  fs::permissions(dir_ / "ro", fs::perms::owner_read | fs::perms::owner_exec);
  EXPECT_EQ(error_of([&] { require_creatable_file(path("ro/m.tandem"), "--output"); }),
            "--output " + path("ro/m.tandem") + ": cannot write there: permission denied in " + path("ro"));
  EXPECT_EQ(error_of([&] { require_writable_directory(path("ro/ck"), "--checkpoint-dir"); }),
            "--checkpoint-dir " + path("ro/ck") + ": cannot write there: permission denied in " + path("ro"));
}

TEST_F(WritablePath, AProbeKilledBeforeItsCleanupIsRemovedByTheNextCheck) {
  const std::string dead = std::to_string(dead_pid());
  { std::ofstream(path("m.tandem.tmp." + dead + ".0")) << ""; }
  { std::ofstream(path(".tandem-write-probe.tmp." + dead + ".0")) << ""; }
  require_creatable_file(path("m.tandem"), "--output");
  require_writable_directory(dir_.string(), "--checkpoint-dir");
  EXPECT_EQ(entries(dir_), 0u);
}

}  // namespace
}  // namespace tandem::testing
