#include "tandem/data/ratings_writer.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <vector>

#include "tandem/core/atomic_file.h"
#include "tandem/core/error.h"

namespace tandem {

namespace {

// Large enough that write(2) calls are few (a 10M-line file is ~40 calls of
// 4 MiB), small enough to stay out of the way of the data being written.
constexpr size_t kBufferBytes = size_t{4} << 20;
// The longest line: three int64 (20 chars each), a float in shortest form
// (at most ~15 chars), three separators of up to 4 chars and a newline.
constexpr size_t kMaxLineBytes = 3 * 20 + 32 + 3 * 4 + 1;

inline char* put_int(char* p, int64_t v) { return std::to_chars(p, p + 20, v).ptr; }

inline char* put_rating(char* p, float r) {
  // Integral ratings (all of MovieLens-100K, all synthetic ones) print as
  // integers; to_chars of an integral float would too, but this is faster.
  if (r >= 0.0f && r < 1e9f && r == std::floor(r)) return put_int(p, static_cast<int64_t>(r));
  // Shortest round-trip form: the loader's from_chars gets the same float.
  return std::to_chars(p, p + 32, r).ptr;
}

}  // namespace

void write_ratings(const Ratings& r, const std::string& path, const RatingsFormat& format) {
  const std::string& sep = format.separator;
  TANDEM_CHECK(!sep.empty() && sep.size() <= 4, path << ": bad separator for writing ratings");
  const size_t n = r.users.size();
  TANDEM_CHECK(r.items.size() == n && r.ratings.size() == n && r.timestamps.size() == n,
               path << ": cannot write ratings whose columns differ in length (users "
                    << n << ", items " << r.items.size() << ", ratings " << r.ratings.size()
                    << ", timestamps " << r.timestamps.size() << ")");
  AtomicFile file(path);
  std::vector<char> buffer(kBufferBytes);
  char* const begin = buffer.data();
  char* const flush_at = begin + kBufferBytes - kMaxLineBytes;
  char* p = begin;
  if (!format.header.empty()) {
    file.write(format.header.data(), format.header.size());
    file.write("\n", 1);
  }
  const auto put_sep = [&](char* q) {
    std::memcpy(q, sep.data(), sep.size());
    return q + sep.size();
  };
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
    p = put_sep(p);
    p = put_int(p, r.items[i]);
    p = put_sep(p);
    p = put_rating(p, r.ratings[i]);
    p = put_sep(p);
    p = put_int(p, r.timestamps[i]);
    *p++ = '\n';
    if (p >= flush_at) {
      file.write(begin, static_cast<size_t>(p - begin));
      p = begin;
    }
  }
  file.write(begin, static_cast<size_t>(p - begin));
  file.commit();
}

}  // namespace tandem
