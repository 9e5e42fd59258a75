#include "tandem/data/download.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "tandem/core/atomic_file.h"
#include "tandem/core/error.h"
#include "tandem/data/cache_dir.h"
#include "tandem/data/checksum.h"

namespace tandem {

namespace {

namespace fs = std::filesystem;

// Removes a temporary file or directory on every exit path.
class RemoveOnExit {
 public:
  explicit RemoveOnExit(fs::path path) : path_(std::move(path)) {}
  ~RemoveOnExit() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  RemoveOnExit(const RemoveOnExit&) = delete;
  RemoveOnExit& operator=(const RemoveOnExit&) = delete;

 private:
  fs::path path_;
};

// An exclusive flock on <cache>/.<name>.lock while alive, so that two runs
// never fetch into, or rename over, the same dataset at once.
class CacheLock {
 public:
  CacheLock(const fs::path& cache, const std::string& name) {
    const fs::path path = cache / ("." + name + ".lock");
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      const int err = errno;
      TANDEM_THROW("cache directory " << cache.string() << " is not writable: cannot create "
                                      << path.string() << ": " << std::strerror(err));
    }
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd_);
      TANDEM_THROW("cannot lock " << path.string() << ": " << std::strerror(err));
    }
  }
  ~CacheLock() { ::close(fd_); }  // closing releases the lock
  CacheLock(const CacheLock&) = delete;
  CacheLock& operator=(const CacheLock&) = delete;

 private:
  int fd_ = -1;
};

void ensure_writable_dir(const fs::path& cache) {
  std::error_code ec;
  fs::create_directories(cache, ec);
  TANDEM_CHECK(!ec, "cannot create the cache directory " << cache.string() << ": " << ec.message()
                                                         << " (pass --cache-dir DIR or set "
                                                            "TANDEM_DATA_CACHE)");
  TANDEM_CHECK(fs::is_directory(cache, ec),
               "cache directory " << cache.string() << " is not a directory");
  if (::access(cache.c_str(), W_OK | X_OK) != 0) {
    const int err = errno;
    TANDEM_THROW("cache directory " << cache.string() << " is not writable: " << std::strerror(err)
                                    << " (pass --cache-dir DIR or set TANDEM_DATA_CACHE)");
  }
}

std::string temporary_prefix(const std::string& name) { return "." + name + ".tmp-"; }

// What an interrupted run left behind. Called with the lock held, so no
// other run is still using them.
void remove_stale_temporaries(const fs::path& cache, const std::string& name) {
  const std::string prefix = temporary_prefix(name);
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(cache, ec)) {
    if (e.path().filename().string().rfind(prefix, 0) == 0) fs::remove_all(e.path(), ec);
  }
}

void sync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);  // best effort: some file systems refuse
  ::close(fd);
}

std::string join_url(const std::string& base, const std::string& file) {
  std::string url = base;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url + "/" + file;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct Expected {
  DigestKind kind;
  std::string hex;
};

// The pinned SHA-256, or else the MD5 GroupLens publishes beside the archive.
Expected expected_checksum(const DatasetInfo& info, const std::string& url,
                           const DownloadOptions& o) {
  if (!info.sha256.empty()) return {DigestKind::kSha256, lower(info.sha256)};
  const std::string md5_url = url + ".md5";
  if (o.log) o.log("No pinned checksum for " + info.name + ": checking against " + md5_url);
  FetchLimits small = o.fetch;
  small.max_bytes = 4096;
  return {DigestKind::kMd5, parse_md5_listing(fetch_to_string(md5_url, small), md5_url)};
}

// Moves `ready` to `target`, replacing whatever is there (a stale or
// incomplete copy, or the old one under --force) by first moving it aside:
// rename(2) cannot replace a non-empty directory.
void install(const fs::path& ready, const fs::path& target, const fs::path& aside) {
  std::error_code ec;
  const bool replacing = fs::exists(fs::symlink_status(target, ec));
  if (replacing) {
    fs::rename(target, aside, ec);
    TANDEM_CHECK(!ec, "cannot move the previous " << target.string() << " aside: " << ec.message());
  }
  fs::rename(ready, target, ec);
  if (ec) {
    std::error_code ignored;
    if (replacing) fs::rename(aside, target, ignored);
    TANDEM_THROW("cannot rename " << ready.string() << " to " << target.string() << ": "
                                  << ec.message());
  }
}

std::string read_marker(const fs::path& dir) {
  std::ifstream in(dir / kVerifiedMarker);
  std::string line;
  if (!in || !std::getline(in, line)) return "";
  return line;
}

}  // namespace

CacheStatus cache_status(const DatasetInfo& info, const std::string& cache_dir) {
  CacheStatus s;
  const fs::path dir = fs::path(cache_dir) / info.name;
  s.directory = dir.string();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    s.state = "not downloaded";
    return s;
  }
  s.checksum = read_marker(dir);
  if (s.checksum.empty()) {
    s.state = "incomplete (no verification marker)";
  } else if (!info.sha256.empty() && s.checksum != "sha256:" + lower(info.sha256)) {
    s.state =
        "verified as " + s.checksum + ", but the registry expects sha256:" + lower(info.sha256);
  } else if (info.sha256.empty() && !(s.checksum.rfind("md5:", 0) == 0 &&
                                      is_hex_digest(DigestKind::kMd5, s.checksum.substr(4)))) {
    s.state = "marker holds no MD5 checksum: " + s.checksum;
  } else if (!fs::is_regular_file(dir / info.key_file, ec)) {
    s.state = "incomplete (" + info.key_file + " is missing)";
  } else {
    s.verified = true;
    s.state = "verified";
  }
  return s;
}

DownloadResult download_dataset(const DatasetInfo& info, const DownloadOptions& o) {
  // Absolute, so the directory reported can be used from anywhere.
  const fs::path cache =
      fs::absolute(o.cache_dir.empty() ? fs::path(default_cache_dir()) : fs::path(o.cache_dir))
          .lexically_normal();
  const fs::path target = cache / info.name;
  DownloadResult r;
  r.url = join_url(o.base_url, info.name + ".zip");
  r.directory = target.string();
  const auto already_there = [&] {
    if (o.force) return false;
    const CacheStatus s = cache_status(info, cache.string());
    r.checksum = s.checksum;
    return s.verified;
  };
  // Checked before touching the cache, so a verified copy is usable offline
  // and from a read-only cache.
  if (already_there()) return r;

  ensure_writable_dir(cache);
  CacheLock lock(cache, info.name);
  if (already_there()) return r;  // another run finished while this one waited
  remove_stale_temporaries(cache, info.name);

  static std::atomic<uint64_t> counter{0};
  const std::string stem = temporary_prefix(info.name) + std::to_string(::getpid()) + "-" +
                           std::to_string(counter.fetch_add(1));
  const fs::path archive = cache / (stem + ".zip");
  const fs::path unpacked = cache / (stem + ".d");
  const fs::path aside = cache / (stem + ".old");
  RemoveOnExit remove_archive(archive), remove_unpacked(unpacked), remove_aside(aside);

  const Expected expected = expected_checksum(info, r.url, o);
  if (o.log) o.log("Downloading " + r.url);
  const FetchResult f = fetch_to_file(r.url, archive.string(), o.fetch);
  const std::string actual = file_digest_hex(expected.kind, archive.string());
  const bool size_ok = info.archive_bytes == 0 || f.bytes == info.archive_bytes;
  TANDEM_CHECK(
      actual == expected.hex && size_ok,
      info.name << ": checksum mismatch for " << f.final_url << ": expected "
                << digest_name(expected.kind) << " " << expected.hex
                << (info.archive_bytes ? " (" + std::to_string(info.archive_bytes) + " bytes)"
                                       : std::string())
                << ", got " << actual << " (" << f.bytes << " bytes); the download was discarded");
  r.checksum = std::string(digest_name(expected.kind)) + ":" + actual;
  if (o.log) o.log("Verified " + r.checksum + " (" + std::to_string(f.bytes) + " bytes)");

  std::error_code ec;
  fs::create_directory(unpacked, ec);
  TANDEM_CHECK(!ec, "cannot create " << unpacked.string() << ": " << ec.message());
  const ZipExtractResult x = extract_zip(archive.string(), unpacked.string(), o.zip);
  const fs::path top = unpacked / info.top_dir;
  TANDEM_CHECK(fs::is_regular_file(top / info.key_file, ec),
               f.final_url << ": the archive holds no " << info.top_dir << "/" << info.key_file
                           << ", so it is not " << info.name);
  {
    AtomicFile marker((top / kVerifiedMarker).string());
    const std::string text = r.checksum + "\nsource " + f.final_url + "\n";
    marker.write(text.data(), text.size());
    marker.commit();
  }
  install(top, target, aside);
  sync_dir(cache);
  if (o.log)
    o.log("Extracted " + std::to_string(x.files) + " files (" + std::to_string(x.bytes) +
          " bytes) into " + target.string());
  r.fetched = true;
  r.url = f.final_url;
  r.archive_bytes = f.bytes;
  return r;
}

}  // namespace tandem
