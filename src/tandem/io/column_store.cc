#include "tandem/io/column_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "tandem/core/error.h"
#include "tandem/core/regular_file.h"
#include "tandem/core/stale_temporaries.h"
#include "tandem/io/checksum.h"

namespace tandem {

namespace fs = std::filesystem;

namespace {

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

void sync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

bool safe_name(const std::string& name) {
  if (name.empty() || name == kColumnStoreManifest || name[0] == '.') return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) return false;
  return true;
}

}  // namespace

struct ColumnStoreWriter::File {
  std::FILE* f = nullptr;
  Xxh64Stream hash;
  int64_t bytes = 0;
  ~File() {
    if (f != nullptr) std::fclose(f);
  }
};

ColumnStoreWriter::ColumnStoreWriter(const std::string& dir)
    : dir_(dir), tmp_(dir + ".tmp." + std::to_string(::getpid())) {
  TANDEM_CHECK(!fs::exists(dir_), dir_ << ": already exists; a store is written to a new directory "
                                          "(remove the old one first)");
  std::error_code ec;
  fs::remove_all(tmp_, ec);
  // Temporary directories of earlier writers of this store killed mid-write.
  for (const std::string& stale : stale_temporaries(dir_)) {
    if (fs::symlink_status(stale, ec).type() == fs::file_type::directory) fs::remove_all(stale, ec);
  }
  TANDEM_CHECK(fs::create_directories(tmp_, ec) && !ec,
               tmp_ << ": cannot create the store's temporary directory: " << ec.message());
}

ColumnStoreWriter::~ColumnStoreWriter() {
  files_.clear();
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }
}

void ColumnStoreWriter::append(const std::string& name, const void* data, size_t bytes) {
  TANDEM_CHECK(!committed_, dir_ << ": the store is already committed");
  TANDEM_CHECK(safe_name(name), "store file name '" << name << "' is not a plain file name");
  auto& slot = files_[name];
  if (!slot) {
    slot = std::make_unique<File>();
    const std::string path = tmp_ + "/" + name;
    slot->f = std::fopen(path.c_str(), "wb");
    TANDEM_CHECK(slot->f != nullptr, path << ": cannot create: " << std::strerror(errno));
  }
  if (bytes == 0) return;
  TANDEM_CHECK(std::fwrite(data, 1, bytes, slot->f) == bytes,
               tmp_ << "/" << name << ": write failed: " << std::strerror(errno));
  slot->hash.update(data, bytes);
  slot->bytes += static_cast<int64_t>(bytes);
}

void ColumnStoreWriter::commit(const nlohmann::json& meta) {
  nlohmann::json files = nlohmann::json::array();
  for (auto& [name, file] : files_) {
    const std::string path = tmp_ + "/" + name;
    TANDEM_CHECK(std::fflush(file->f) == 0 && ::fsync(::fileno(file->f)) == 0,
                 path << ": cannot write to disk: " << std::strerror(errno));
    TANDEM_CHECK(std::fclose(file->f) == 0, path << ": close failed: " << std::strerror(errno));
    file->f = nullptr;
    files.push_back({{"name", name}, {"bytes", file->bytes}, {"xxh64", hex64(file->hash.digest())}});
  }
  const nlohmann::json manifest = {{"format", kColumnStoreFormat},
                                   {"version", kColumnStoreVersion},
                                   {"files", files},
                                   {"meta", meta}};
  {
    const std::string path = tmp_ + "/" + kColumnStoreManifest;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    TANDEM_CHECK(f != nullptr, path << ": cannot create: " << std::strerror(errno));
    const std::string text = manifest.dump(1) + "\n";
    const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size() && std::fflush(f) == 0 &&
                    ::fsync(::fileno(f)) == 0;
    std::fclose(f);
    TANDEM_CHECK(ok, path << ": write failed: " << std::strerror(errno));
  }
  sync_path(tmp_, O_RDONLY | O_DIRECTORY);
  std::error_code ec;
  fs::rename(tmp_, dir_, ec);
  TANDEM_CHECK(!ec, dir_ << ": cannot move the store into place: " << ec.message());
  const std::string parent = fs::path(dir_).parent_path().string();
  sync_path(parent.empty() ? "." : parent, O_RDONLY | O_DIRECTORY);
  committed_ = true;
}

struct ColumnStore::OpenFile {
  int fd = -1;
  int64_t bytes = 0;
  std::string path;
  ~OpenFile() {
    if (fd >= 0) ::close(fd);
  }
};

ColumnStore ColumnStore::open(const std::string& dir, bool verify_checksums) {
  ColumnStore s;
  s.dir_ = dir;
  const std::string manifest_path = dir + "/" + kColumnStoreManifest;
  TANDEM_CHECK(fs::is_directory(dir), dir << ": no such store directory (write one with tandem data "
                                             "prepare --output DIR)");
  TANDEM_CHECK(fs::exists(manifest_path),
               manifest_path << ": missing; " << dir << " is not a complete example store");
  nlohmann::json m;
  {
    const std::string text = read_regular_file(manifest_path, "store manifest");
    try {
      m = nlohmann::json::parse(text);
      TANDEM_CHECK(m.is_object() && m.value("format", "") == kColumnStoreFormat,
                   "not a " << kColumnStoreFormat << " manifest");
      TANDEM_CHECK(m.at("version").get<int>() == kColumnStoreVersion,
                   "format version " << m.at("version").dump() << ", this build reads version "
                                     << kColumnStoreVersion);
      s.meta_ = m.at("meta");
      uint64_t fp = 0;
      for (const auto& f : m.at("files")) {
        auto of = std::make_shared<OpenFile>();
        const std::string name = f.at("name").get<std::string>();
        TANDEM_CHECK(safe_name(name), "lists a file named '" << name << "'");
        of->bytes = f.at("bytes").get<int64_t>();
        of->path = dir + "/" + name;
        const std::string sum = f.at("xxh64").get<std::string>();
        fp = xxh64(name.data(), name.size(), fp);
        fp = xxh64(&of->bytes, sizeof of->bytes, fp);
        fp = xxh64(sum.data(), sum.size(), fp);
        of->fd = ::open(of->path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        TANDEM_CHECK(of->fd >= 0, of->path << ": cannot open a file the store lists: "
                                           << std::strerror(errno));
        // A listed name replaced by a device or FIFO is refused, not read.
        struct stat st {};
        TANDEM_CHECK(::fstat(of->fd, &st) == 0, of->path << ": cannot stat: " << std::strerror(errno));
        TANDEM_CHECK(S_ISREG(st.st_mode), of->path << ": cannot read a file the store lists: not a regular "
                                                      "file (" << file_kind(st.st_mode) << ")");
        const int64_t actual = static_cast<int64_t>(st.st_size);
        TANDEM_CHECK(actual == of->bytes, of->path << ": " << actual << " bytes, the manifest says "
                                                   << of->bytes << " (truncated or replaced)");
        if (verify_checksums) {
          Xxh64Stream h;
          std::vector<char> block(size_t{1} << 20);
          for (int64_t off = 0; off < of->bytes;) {
            const auto n = static_cast<size_t>(std::min<int64_t>(of->bytes - off, static_cast<int64_t>(block.size())));
            const ssize_t got2 = ::pread(of->fd, block.data(), n, off);
            TANDEM_CHECK(got2 == static_cast<ssize_t>(n), of->path << ": read failed at byte " << off);
            h.update(block.data(), n);
            off += static_cast<int64_t>(n);
          }
          // The pages were read once for the check; training reads them again
          // in its own order, so they need not stay cached.
          (void)::posix_fadvise(of->fd, 0, 0, POSIX_FADV_DONTNEED);
          TANDEM_CHECK(hex64(h.digest()) == sum, of->path << ": checksum mismatch (xxh64 "
                                                          << hex64(h.digest()) << ", the manifest says "
                                                          << sum << "): the file is corrupt");
        }
        s.files_[name] = std::move(of);
      }
      s.fingerprint_ = fp;
    } catch (const nlohmann::json::exception& e) {
      TANDEM_THROW(manifest_path << ": unreadable store manifest: " << e.what());
    } catch (const Error& e) {
      const std::string what = e.what();
      if (what.rfind(dir, 0) == 0) throw;
      TANDEM_THROW(manifest_path << ": " << what);
    }
  }
  return s;
}

int64_t ColumnStore::bytes(const std::string& name) const {
  const auto it = files_.find(name);
  TANDEM_CHECK(it != files_.end(), dir_ << ": the store has no file " << name);
  return it->second->bytes;
}

void ColumnStore::check_size(const std::string& name, int64_t count, int64_t width) const {
  const int64_t b = bytes(name);
  TANDEM_CHECK(b == count * width, dir_ << "/" << name << ": " << b << " bytes, expected " << count
                                        << " values of " << width << " bytes (the manifest's row "
                                                                     "counts disagree with the file)");
}

void ColumnStore::read(const std::string& name, int64_t offset, void* out, int64_t bytes) const {
  const auto it = files_.find(name);
  TANDEM_CHECK(it != files_.end(), dir_ << ": the store has no file " << name);
  const OpenFile& f = *it->second;
  TANDEM_CHECK(offset >= 0 && bytes >= 0 && offset + bytes <= f.bytes,
               f.path << ": read of " << bytes << " bytes at " << offset << " is past its end ("
                      << f.bytes << " bytes)");
  auto* p = static_cast<char*>(out);
  while (bytes > 0) {
    const ssize_t got = ::pread(f.fd, p, static_cast<size_t>(bytes), offset);
    TANDEM_CHECK(got > 0, f.path << ": read failed at byte " << offset << ": "
                                 << (got == 0 ? "unexpected end of file" : std::strerror(errno)));
    p += got;
    offset += got;
    bytes -= got;
  }
}

std::string ColumnStore::read_all(const std::string& name) const {
  std::string out(static_cast<size_t>(bytes(name)), '\0');
  read(name, 0, out.data(), static_cast<int64_t>(out.size()));
  return out;
}

}  // namespace tandem
