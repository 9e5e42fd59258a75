// Input files are read only when they are regular files, and never past the
// size fstat reported: a device, a FIFO, a socket or a directory is refused
// by name before a byte is read (no endless /dev/zero, no wait on a FIFO).
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/special_files.h"
#include "support/temp_dir.h"
#include "tandem/core/error.h"
#include "tandem/core/regular_file.h"

namespace tandem::testing {
namespace {

namespace fs = std::filesystem;

class RegularFile : public ::testing::Test {
 protected:
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // What read_regular_file(p, "model file") throws, from a child that an
  // alarm ends after 10 s should the read block or never end.
  std::string refusal(const std::string& p) const {
    const BoundedCall r = call_within(10, [&] { (void)read_regular_file(p, "model file"); });
    EXPECT_TRUE(r.finished) << p << ": the read did not end within 10 s";
    EXPECT_TRUE(r.threw) << p << ": read without an error";
    return r.message;
  }
  TempDir scratch_{"tandem_regular_file"};
  const fs::path& dir_ = scratch_.path();
};

TEST_F(RegularFile, ReadsEveryByteOfARegularFile) {
  std::string bytes;
  for (int i = 0; i < 200000; ++i) bytes.push_back(static_cast<char>(i * 7919 % 256));
  {
    std::ofstream out(path("data.bin"), std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  EXPECT_EQ(read_regular_file(path("data.bin"), "model file"), bytes);
  std::ofstream(path("empty.bin")).close();
  EXPECT_EQ(read_regular_file(path("empty.bin"), "model file"), "");
}

// No read goes past the size fstat reported at open. procfs files show it
// plainly: they are regular files that report size 0 and yet hold text, so
// a reader that stops at the stat size reads nothing from them, where one
// that reads until end of file would get the text.
TEST_F(RegularFile, ReadsNoMoreThanTheSizeStatReported) {
  struct stat st {};
  if (::stat("/proc/self/status", &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != 0)
    GTEST_SKIP() << "no procfs with size-0 regular files here";
  std::ifstream in("/proc/self/status");
  std::string first_line;
  std::getline(in, first_line);
  ASSERT_FALSE(first_line.empty());  // the file does hold text...
  EXPECT_EQ(read_regular_file("/proc/self/status", "model file"), "");  // ...past its stat size
}

TEST_F(RegularFile, FollowsASymbolicLinkToARegularFile) {
  { std::ofstream(path("real.txt")) << "content"; }
  fs::create_symlink(path("real.txt"), path("link.txt"));
  EXPECT_EQ(read_regular_file(path("link.txt"), "model file"), "content");
}

TEST_F(RegularFile, CharacterDevicesAreRefusedByName) {
  for (const std::string device : {"/dev/zero", "/dev/urandom", "/dev/null"}) {
    struct stat st {};
    if (::stat(device.c_str(), &st) != 0) continue;  // a minimal container may lack one
    EXPECT_EQ(refusal(device), device + ": cannot read model file: not a regular file (a character device)");
  }
}

TEST_F(RegularFile, AFifoIsRefusedWithoutWaitingForAWriter) {
  make_fifo(dir_ / "pipe");
  EXPECT_EQ(refusal(path("pipe")), path("pipe") + ": cannot read model file: not a regular file (a FIFO)");
  // Through a symbolic link too: the link is followed, then judged.
  fs::create_symlink(path("pipe"), path("pipe-link"));
  EXPECT_EQ(refusal(path("pipe-link")),
            path("pipe-link") + ": cannot read model file: not a regular file (a FIFO)");
}

TEST_F(RegularFile, ASocketIsRefused) {
  if (!make_socket_file(dir_ / "sock")) GTEST_SKIP() << "cannot bind a Unix socket here";
  EXPECT_EQ(refusal(path("sock")), path("sock") + ": cannot read model file: not a regular file (a socket)");
}

TEST_F(RegularFile, ADirectoryIsRefused) {
  EXPECT_EQ(refusal(dir_.string()),
            dir_.string() + ": cannot read model file: not a regular file (a directory)");
}

TEST_F(RegularFile, AMissingFileNamesTheSystemError) {
  EXPECT_EQ(refusal(path("absent")), path("absent") + ": cannot open model file: No such file or directory");
  // A path through a regular file.
  { std::ofstream(path("plain")) << "x"; }
  EXPECT_EQ(refusal(path("plain") + "/inner"),
            path("plain") + "/inner: cannot open model file: Not a directory");
}

TEST_F(RegularFile, RequireRegularFileJudgesWithoutReading) {
  { std::ofstream(path("ok")) << "x"; }
  EXPECT_NO_THROW(require_regular_file(path("ok"), "ratings file"));
  make_fifo(dir_ / "pipe");
  try {
    require_regular_file(path("pipe"), "ratings file");
    ADD_FAILURE() << "a FIFO passed";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), path("pipe") + ": cannot read ratings file: not a regular file (a FIFO)");
  }
}

TEST(FileKind, NamesEveryKind) {
  EXPECT_EQ(file_kind(S_IFREG | 0644), "a regular file");
  EXPECT_EQ(file_kind(S_IFDIR | 0755), "a directory");
  EXPECT_EQ(file_kind(S_IFCHR | 0666), "a character device");
  EXPECT_EQ(file_kind(S_IFBLK | 0660), "a block device");
  EXPECT_EQ(file_kind(S_IFIFO | 0600), "a FIFO");
  EXPECT_EQ(file_kind(S_IFSOCK | 0755), "a socket");
  EXPECT_EQ(file_kind(S_IFLNK | 0777), "a symbolic link");
  EXPECT_EQ(file_kind(0), "an unknown kind of file");
}

}  // namespace
}  // namespace tandem::testing
