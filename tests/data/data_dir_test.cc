#include "tandem/data/data_dir.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "data/test_util.h"
#include "tandem/core/error.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;
using testing::error_of;

// Gives each test a known TANDEM_DATA and working directory, and puts the
// process's own back afterwards.
class DataDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* env = std::getenv("TANDEM_DATA")) saved_env_ = env;
    saved_cwd_ = fs::current_path();
    ::unsetenv("TANDEM_DATA");
    // A working directory whose ../shared/data/ml-100k does not exist: one
    // level inside a scratch directory, so that a shared/ beside the system's
    // temporary directory (a checkout under /tmp) is not found from it.
    fs::create_directories(empty_cwd_.path() / "cwd");
    fs::current_path(empty_cwd_.path() / "cwd");
  }
  void TearDown() override {
    fs::current_path(saved_cwd_);
    if (saved_env_) {
      ::setenv("TANDEM_DATA", saved_env_->c_str(), 1);
    } else {
      ::unsetenv("TANDEM_DATA");
    }
  }

  // A directory holding a u.data file.
  std::string make_data_dir(const testing::TempDir& dir, const std::string& sub) {
    dir.write(sub + "/u.data", "1\t1\t1\t1\n");
    return (dir.path() / sub).string();
  }

  testing::TempDir tmp_;
  testing::TempDir empty_cwd_;
  std::optional<std::string> saved_env_;
  fs::path saved_cwd_;
};

TEST_F(DataDirTest, FlagWinsOverEnvironment) {
  const std::string flag = make_data_dir(tmp_, "flag");
  const std::string env = make_data_dir(tmp_, "env");
  ::setenv("TANDEM_DATA", env.c_str(), 1);
  EXPECT_EQ(resolve_data_dir(flag), flag);
}

TEST_F(DataDirTest, EnvironmentUsedWithoutFlag) {
  const std::string env = make_data_dir(tmp_, "env");
  ::setenv("TANDEM_DATA", env.c_str(), 1);
  EXPECT_EQ(resolve_data_dir(""), env);
}

TEST_F(DataDirTest, EnvironmentWinsOverDefault) {
  testing::TempDir root;
  make_data_dir(root, "shared/data/ml-100k");
  const fs::path work = root.path() / "work";
  fs::create_directories(work);
  fs::current_path(work);
  const std::string env = make_data_dir(tmp_, "env");
  ::setenv("TANDEM_DATA", env.c_str(), 1);
  EXPECT_EQ(resolve_data_dir(""), env);
}

TEST_F(DataDirTest, DefaultIsRelativeToTheWorkingDirectory) {
  testing::TempDir root;
  make_data_dir(root, "shared/data/ml-100k");
  const fs::path work = root.path() / "work";
  fs::create_directories(work);
  fs::current_path(work);
  const std::string found = resolve_data_dir("");
  EXPECT_TRUE(fs::equivalent(found, root.path() / "shared/data/ml-100k")) << found;
  // An empty TANDEM_DATA counts as unset.
  ::setenv("TANDEM_DATA", "", 1);
  EXPECT_TRUE(fs::equivalent(resolve_data_dir(""), root.path() / "shared/data/ml-100k"));
}

TEST_F(DataDirTest, BadFlagIsAnErrorEvenWithGoodEnvironment) {
  const std::string env = make_data_dir(tmp_, "env");
  ::setenv("TANDEM_DATA", env.c_str(), 1);
  const std::string missing = (tmp_.path() / "missing").string();
  const std::string msg = error_of([&] { resolve_data_dir(missing); });
  EXPECT_CONTAINS(msg, missing);
  EXPECT_CONTAINS(msg, "does not exist");
  EXPECT_CONTAINS(msg, "pass --data DIR or set TANDEM_DATA");
}

TEST_F(DataDirTest, DirectoryWithoutUDataIsRejected) {
  fs::create_directories(tmp_.path() / "empty");
  const std::string empty = (tmp_.path() / "empty").string();
  EXPECT_CONTAINS(error_of([&] { resolve_data_dir(empty); }), "holds no ratings file (u.data, ratings.dat or ratings.csv)");
  const std::string file = tmp_.write("plain_file", "x");
  EXPECT_CONTAINS(error_of([&] { resolve_data_dir(file); }), "is not a directory");
}

// A directory whose files cannot be reached (no search permission) says
// "permission denied" instead of looking empty; one that can only not be
// listed is used, since its files are looked up by name. chmod does not deny
// root, and CI runs the tests as root: there this test skips, and
// DirectoryReadProblemComesFromErrno (and DescribeErrno in the core tests)
// check the same path with errors root meets too.
TEST_F(DataDirTest, UnreadableDirectoryIsPermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root, which chmod 000 does not keep out";
  const std::string locked = make_data_dir(tmp_, "locked");
  // Puts the mode back however the test ends, so the scratch directory can
  // be removed.
  struct RestoreMode {
    std::string dir;
    ~RestoreMode() { fs::permissions(dir, fs::perms::owner_all); }
  } restore{locked};
  for (const fs::perms mode : {fs::perms::none, fs::perms::owner_read}) {
    fs::permissions(locked, mode);
    EXPECT_EQ(directory_read_problem(locked), "permission denied") << static_cast<int>(mode);
    EXPECT_CONTAINS(error_of([&] { resolve_data_dir(locked); }), "  --data '" + locked + "': permission denied\n");
  }
  fs::permissions(locked, fs::perms::owner_exec);  // searchable, not listable
  EXPECT_EQ(directory_read_problem(locked), "");
  EXPECT_EQ(resolve_data_dir(locked), locked);
}

TEST_F(DataDirTest, DirectoryReadProblemComesFromErrno) {
  EXPECT_EQ(directory_read_problem(tmp_.path().string()), "");
  EXPECT_EQ(directory_read_problem((tmp_.path() / "missing").string()), "no such file or directory");
  EXPECT_EQ(directory_read_problem(tmp_.write("plain_file", "x")), "not a directory");
}

TEST_F(DataDirTest, BadEnvironmentIsAnError) {
  const std::string missing = (tmp_.path() / "nowhere").string();
  ::setenv("TANDEM_DATA", missing.c_str(), 1);
  const std::string msg = error_of([] { resolve_data_dir(""); });
  EXPECT_CONTAINS(msg, "--data: not given");
  EXPECT_CONTAINS(msg, "TANDEM_DATA '" + missing + "': does not exist");
}

TEST_F(DataDirTest, NothingFoundListsEveryPlace) {
  const std::string msg = error_of([] { resolve_data_dir(""); });
  EXPECT_CONTAINS(msg, "--data: not given");
  EXPECT_CONTAINS(msg, "TANDEM_DATA: not set");
  EXPECT_CONTAINS(msg, "../shared/data/ml-100k");
  EXPECT_CONTAINS(msg, (empty_cwd_.path() / "shared/data/ml-100k").string());
  EXPECT_CONTAINS(msg,
                  "pass --data DIR or set TANDEM_DATA to a directory holding MovieLens-100K's "
                  "u.data and u.item ('tandem data download ml-100k' fetches it");
}

}  // namespace
}  // namespace tandem
