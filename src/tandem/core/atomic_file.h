// Writing a file so that readers only ever see the old content or the whole
// new one: write a temporary beside the target, fsync, close, rename over
// the target, then fsync the directory. Until commit() the target is
// untouched; a destroyed, uncommitted AtomicFile removes its temporary, so
// every error path (exceptions included) cleans up.
#pragma once

#include <cstddef>
#include <string>

namespace tandem {

class AtomicFile {
 public:
  // Creates `<path>.tmp.<pid>.<n>` (unique per process and call, so
  // concurrent writers never share one). Errors name `path`. First removes
  // the temporary files of `path` that writers no longer running left
  // (killed mid-write; see stale_temporaries.h); live writers' are kept.
  explicit AtomicFile(const std::string& path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const char* data, size_t size);
  // Syncs, closes and renames over the target; the target directory's entry
  // is synced too (best effort: some file systems refuse).
  void commit();

  const std::string& temporary_path() const { return tmp_; }

 private:
  std::string path_, tmp_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace tandem
