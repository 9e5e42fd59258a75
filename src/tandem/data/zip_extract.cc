#include "tandem/data/zip_extract.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "tandem/core/error.h"

namespace tandem {

namespace {

namespace fs = std::filesystem;

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }  // read-only: nothing to save
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipCloser>;
using ZipFilePtr = std::unique_ptr<zip_file_t, ZipFileCloser>;

ZipPtr open_archive(const std::string& path) {
  int code = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  if (z == nullptr) {
    zip_error_t err;
    zip_error_init_with_code(&err, code);
    const std::string why = zip_error_strerror(&err);
    zip_error_fini(&err);
    TANDEM_THROW(path << ": not a readable zip archive: " << why);
  }
  return ZipPtr(z);
}

// Why `name` may not be extracted, or "" if it may. Both separators count,
// since archives made on Windows may use backslashes.
std::string why_unsafe(std::string_view name) {
  if (name.empty()) return "has an empty name";
  if (name.front() == '/' || name.front() == '\\') return "has an absolute path";
  if (name.size() >= 2 && name[1] == ':') return "has a drive-letter path";
  size_t start = 0;
  while (start <= name.size()) {
    const size_t end = name.find_first_of("/\\", start);
    const std::string_view part =
        name.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (part == "..") return "has a '..' component that would escape the destination";
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return "";
}

bool is_symlink(zip_t* z, zip_uint64_t index) {
  zip_uint8_t opsys = 0;
  zip_uint32_t attributes = 0;
  if (zip_file_get_external_attributes(z, index, 0, &opsys, &attributes) != 0) return false;
  return opsys == ZIP_OPSYS_UNIX && ((attributes >> 16) & S_IFMT) == S_IFLNK;
}

struct Entry {
  zip_uint64_t index;
  std::string name;
  uint64_t size;  // as declared in the central directory
};

// Every entry, checked; nothing is written until all of them pass.
std::vector<Entry> checked_entries(zip_t* z, const std::string& zip_path, const ZipLimits& limits) {
  const zip_int64_t n = zip_get_num_entries(z, 0);
  TANDEM_CHECK(n >= 0, zip_path << ": cannot count the entries: " << zip_strerror(z));
  TANDEM_CHECK(static_cast<uint64_t>(n) <= limits.max_entries,
               zip_path << ": " << n << " entries, more than the limit of " << limits.max_entries);
  std::vector<Entry> entries;
  entries.reserve(static_cast<size_t>(n));
  uint64_t total = 0;
  for (zip_uint64_t i = 0; i < static_cast<zip_uint64_t>(n); ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    TANDEM_CHECK(zip_stat_index(z, i, ZIP_FL_ENC_RAW, &st) == 0,
                 zip_path << ": cannot read entry " << i << ": " << zip_strerror(z));
    TANDEM_CHECK((st.valid & ZIP_STAT_NAME) && (st.valid & ZIP_STAT_SIZE),
                 zip_path << ": entry " << i << " has no name or size");
    const std::string name = st.name;
    const std::string why = why_unsafe(name);
    TANDEM_CHECK(why.empty(), zip_path << ": refusing the archive: entry '" << name << "' " << why);
    TANDEM_CHECK(!is_symlink(z, i),
                 zip_path << ": refusing the archive: entry '" << name << "' is a symbolic link");
    // Checked one entry at a time so that the sum cannot overflow.
    TANDEM_CHECK(st.size <= limits.max_total_bytes - total,
                 zip_path << ": refusing the archive: its entries expand to more than "
                          << limits.max_total_bytes << " bytes (entry '" << name
                          << "' alone declares " << st.size
                          << "); a zip bomb or not the expected archive");
    total += st.size;
    entries.push_back({i, name, st.size});
  }
  return entries;
}

void write_all(int fd, const char* p, size_t left, const fs::path& file) {
  while (left > 0) {
    const ssize_t put = ::write(fd, p, left);
    if (put < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      TANDEM_THROW(file.string() << ": cannot write: " << std::strerror(err));
    }
    p += put;
    left -= static_cast<size_t>(put);
  }
}

// One regular file: at most `e.size` bytes are accepted, so an entry whose
// declared size lies cannot fill the disk.
void extract_file(zip_t* z, const Entry& e, const fs::path& target, const std::string& zip_path) {
  ZipFilePtr in(zip_fopen_index(z, e.index, 0));
  TANDEM_CHECK(in, zip_path << ": cannot open entry '" << e.name << "': " << zip_strerror(z));
  const int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    TANDEM_THROW(target.string() << ": cannot create (entry '" << e.name << "' of " << zip_path
                                 << (err == EEXIST ? ", a duplicate entry" : "")
                                 << "): " << std::strerror(err));
  }
  struct Fd {
    int fd;
    ~Fd() { ::close(fd); }
  } guard{fd};
  std::vector<char> block(1 << 16);
  uint64_t written = 0;
  for (;;) {
    const zip_int64_t got = zip_fread(in.get(), block.data(), block.size());
    TANDEM_CHECK(got >= 0, zip_path << ": entry '" << e.name
                                    << "' is corrupt: " << zip_file_strerror(in.get()));
    if (got == 0) break;
    TANDEM_CHECK(static_cast<uint64_t>(got) <= e.size - written,
                 zip_path << ": refusing entry '" << e.name << "': it inflates beyond its declared "
                          << e.size << " bytes");
    write_all(fd, block.data(), static_cast<size_t>(got), target);
    written += static_cast<uint64_t>(got);
  }
  TANDEM_CHECK(written == e.size, zip_path << ": entry '" << e.name << "' holds " << written
                                           << " bytes, " << e.size << " declared");
  if (::fsync(fd) != 0) {
    const int err = errno;
    TANDEM_THROW(target.string() << ": cannot sync: " << std::strerror(err));
  }
}

}  // namespace

ZipExtractResult extract_zip(const std::string& zip_path, const std::string& dest_dir,
                             const ZipLimits& limits) {
  ZipPtr z = open_archive(zip_path);
  const std::vector<Entry> entries = checked_entries(z.get(), zip_path, limits);
  const fs::path dest(dest_dir);
  ZipExtractResult result;
  for (const Entry& e : entries) {
    const fs::path target = dest / fs::path(e.name).relative_path();
    const bool is_dir = e.name.back() == '/' || e.name.back() == '\\';
    std::error_code ec;
    fs::create_directories(is_dir ? target : target.parent_path(), ec);
    TANDEM_CHECK(!ec, zip_path << ": cannot create the directory for entry '" << e.name
                               << "' under " << dest_dir << ": " << ec.message());
    if (is_dir) continue;
    extract_file(z.get(), e, target, zip_path);
    ++result.files;
    result.bytes += e.size;
  }
  return result;
}

}  // namespace tandem
