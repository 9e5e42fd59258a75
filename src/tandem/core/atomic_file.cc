#include "tandem/core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tandem/core/error.h"
#include "tandem/core/stale_temporaries.h"

namespace tandem {

namespace {

std::string errno_text(int err) { return std::strerror(err); }

void sync_parent_dir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

}  // namespace

AtomicFile::AtomicFile(const std::string& path) : path_(path) {
  remove_stale_temporary_files(path);
  tmp_ = new_temporary_path(path);
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    const int err = errno;
    TANDEM_THROW(path_ << ": cannot create temporary file " << tmp_ << ": " << errno_text(err));
  }
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_.c_str());
}

void AtomicFile::write(const char* p, size_t left) {
  TANDEM_CHECK(fd_ >= 0, path_ << ": write after commit");
  while (left > 0) {
    const ssize_t put = ::write(fd_, p, left);
    if (put < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      TANDEM_THROW(path_ << ": cannot write temporary file " << tmp_ << ": " << errno_text(err));
    }
    p += put;
    left -= static_cast<size_t>(put);
  }
}

void AtomicFile::commit() {
  if (::fsync(fd_) != 0) {
    const int err = errno;
    TANDEM_THROW(path_ << ": cannot sync temporary file " << tmp_ << ": " << errno_text(err));
  }
  const int fd = fd_;
  fd_ = -1;
  // close can report a deferred write error (NFS), which must not be lost.
  if (::close(fd) != 0) {
    const int err = errno;
    TANDEM_THROW(path_ << ": cannot close temporary file " << tmp_ << ": " << errno_text(err));
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    TANDEM_THROW(path_ << ": cannot replace the file with " << tmp_ << ": " << errno_text(err));
  }
  committed_ = true;
  sync_parent_dir(path_);
}

}  // namespace tandem
