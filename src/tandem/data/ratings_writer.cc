#include "tandem/data/ratings_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <vector>

#include "tandem/core/error.h"

namespace tandem {

namespace {

// Large enough that write(2) calls are few (a 10M-line file is ~40 calls of
// 4 MiB), small enough to stay out of the way of the data being written.
constexpr size_t kBufferBytes = size_t{4} << 20;
// The longest line: three int64 (20 chars each), a float in shortest form
// (at most ~15 chars), three tabs and a newline.
constexpr size_t kMaxLineBytes = 3 * 20 + 32 + 4;

std::string errno_text(int err) { return std::strerror(err); }

// The open temporary file; removes it unless released, so that every error
// path (including exceptions from the row checks) cleans up.
class TempFile {
 public:
  TempFile(const std::string& path, const std::string& tmp) : path_(path), tmp_(tmp) {
    // O_TRUNC rather than O_EXCL: a .tmp left by a crashed earlier run must
    // not block the next one.
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      const int err = errno;
      TANDEM_THROW(path_ << ": cannot create temporary file " << tmp_ << ": " << errno_text(err));
    }
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(tmp_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  void write_all(const char* p, size_t left) {
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

  // Syncs, closes and renames over the target.
  void commit() {
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
      TANDEM_THROW(path_ << ": cannot rename " << tmp_ << " over it: " << errno_text(err));
    }
    committed_ = true;
  }

 private:
  const std::string& path_;
  std::string tmp_;
  int fd_ = -1;
  bool committed_ = false;
};

inline char* put_int(char* p, int64_t v) { return std::to_chars(p, p + 20, v).ptr; }

inline char* put_rating(char* p, float r) {
  // Integral ratings (all of MovieLens-100K, all synthetic ones) print as
  // integers; to_chars of an integral float would too, but this is faster.
  if (r >= 0.0f && r < 1e9f && r == std::floor(r)) return put_int(p, static_cast<int64_t>(r));
  // Shortest round-trip form: the loader's from_chars gets the same float.
  return std::to_chars(p, p + 32, r).ptr;
}

}  // namespace

void write_ratings(const Ratings& r, const std::string& path) {
  const size_t n = r.users.size();
  TANDEM_CHECK(r.items.size() == n && r.ratings.size() == n && r.timestamps.size() == n,
               path << ": cannot write ratings whose columns differ in length (users "
                    << n << ", items " << r.items.size() << ", ratings " << r.ratings.size()
                    << ", timestamps " << r.timestamps.size() << ")");
  TempFile file(path, path + ".tmp");
  std::vector<char> buffer(kBufferBytes);
  char* const begin = buffer.data();
  char* const flush_at = begin + kBufferBytes - kMaxLineBytes;
  char* p = begin;
  for (size_t i = 0; i < n; ++i) {
    // The loader accepts only non-negative integers and finite ratings; a
    // file it would reject is caught here, where the row is still known.
    TANDEM_CHECK(r.users[i] >= 0 && r.items[i] >= 0 && r.timestamps[i] >= 0 &&
                     std::isfinite(r.ratings[i]),
                 path << ": row " << i << " cannot be written in u.data format (user "
                      << r.users[i] << ", item " << r.items[i] << ", rating " << r.ratings[i]
                      << ", timestamp " << r.timestamps[i]
                      << "): ids and timestamps must be >= 0 and the rating finite");
    p = put_int(p, r.users[i]);
    *p++ = '\t';
    p = put_int(p, r.items[i]);
    *p++ = '\t';
    p = put_rating(p, r.ratings[i]);
    *p++ = '\t';
    p = put_int(p, r.timestamps[i]);
    *p++ = '\n';
    if (p >= flush_at) {
      file.write_all(begin, static_cast<size_t>(p - begin));
      p = begin;
    }
  }
  file.write_all(begin, static_cast<size_t>(p - begin));
  file.commit();
}

}  // namespace tandem
