#include "tandem/core/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tandem/core/error.h"

namespace tandem {

namespace {

[[noreturn]] void throw_errno(const std::string& path, const char* verb, std::string_view what, int err) {
  TANDEM_THROW(path << ": cannot " << verb << " " << what << ": " << std::strerror(err));
}

void require_regular_mode(const std::string& path, std::string_view what, mode_t mode) {
  TANDEM_CHECK(S_ISREG(mode),
               path << ": cannot read " << what << ": not a regular file (" << file_kind(mode) << ")");
}

// Closes the descriptor on every path out of read_regular_file.
struct Descriptor {
  int fd = -1;
  ~Descriptor() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::string file_kind(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "an unknown kind of file";
}

void require_regular_file(const std::string& path, std::string_view what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw_errno(path, "open", what, errno);
  require_regular_mode(path, what, st.st_mode);
}

std::string read_regular_file(const std::string& path, std::string_view what) {
  // Judged by path first, so that a device is never even opened (opening
  // some has effects of its own).
  require_regular_file(path, what);
  Descriptor file;
  // O_NONBLOCK: should the path have been replaced by a FIFO since the stat,
  // opening it returns at once instead of waiting for a writer.
  file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (file.fd < 0) throw_errno(path, "open", what, errno);
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) throw_errno(path, "stat", what, errno);
  require_regular_mode(path, what, st.st_mode);
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t have = 0;
  while (have < bytes.size()) {
    const ssize_t got = ::read(file.fd, bytes.data() + have, bytes.size() - have);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw_errno(path, "read", what, errno);
    }
    if (got == 0) break;  // shrunk since the fstat: what is there is all there is
    have += static_cast<size_t>(got);
  }
  bytes.resize(have);
  return bytes;
}

}  // namespace tandem
