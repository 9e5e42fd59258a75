// A directory of binary column files and a JSON manifest that lists each
// file with its byte size and XXH64, for data too large to parse again on
// every run (tandem data prepare --output, tandem train --prepared).
//
// Writing is all or nothing: the files go into `<dir>.tmp.<pid>`, are
// synced, the manifest is written last, and the directory is renamed into
// place; a killed writer leaves only the temporary, which is never mistaken
// for a store, and which the next writer of the same store removes once the
// pid in its name is no longer running (stale_temporaries.h). Opening checks the format and version, that every listed file
// exists with its size, and (unless told not to) every file's checksum,
// read in blocks; each error names the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace tandem {

constexpr const char* kColumnStoreFormat = "tandem-example-store";
constexpr int kColumnStoreVersion = 1;
constexpr const char* kColumnStoreManifest = "manifest.json";

class ColumnStoreWriter {
 public:
  // `dir` must not exist yet (a store is never overwritten in place).
  explicit ColumnStoreWriter(const std::string& dir);
  // Removes the temporary directory unless committed.
  ~ColumnStoreWriter();
  ColumnStoreWriter(const ColumnStoreWriter&) = delete;
  ColumnStoreWriter& operator=(const ColumnStoreWriter&) = delete;

  // Appends bytes to the file `name` (created empty by the first call).
  void append(const std::string& name, const void* data, size_t bytes);
  // Syncs and closes the files, writes the manifest ({format, version,
  // files, meta}) and renames the directory into place.
  void commit(const nlohmann::json& meta);

 private:
  struct File;
  std::string dir_, tmp_;
  std::map<std::string, std::unique_ptr<File>> files_;
  bool committed_ = false;
};

class ColumnStore {
 public:
  // Opens `dir`; with `verify_checksums` every file is read once and hashed.
  static ColumnStore open(const std::string& dir, bool verify_checksums = true);

  const std::string& dir() const { return dir_; }
  const nlohmann::json& meta() const { return meta_; }
  bool has(const std::string& name) const { return files_.count(name) != 0; }
  int64_t bytes(const std::string& name) const;
  // Checks that `name` holds `count` values of `width` bytes.
  void check_size(const std::string& name, int64_t count, int64_t width) const;
  // Reads `bytes` bytes of `name` from `offset` (thread-safe: pread).
  void read(const std::string& name, int64_t offset, void* out, int64_t bytes) const;
  std::string read_all(const std::string& name) const;
  // XXH64 over the files' names, sizes and checksums: the store's content.
  uint64_t fingerprint() const { return fingerprint_; }

 private:
  struct OpenFile;
  std::string dir_;
  nlohmann::json meta_;
  std::map<std::string, std::shared_ptr<OpenFile>> files_;
  uint64_t fingerprint_ = 0;
};

}  // namespace tandem
