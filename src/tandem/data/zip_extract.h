// Unpacking a downloaded zip archive (libzip) without trusting it: every
// entry name and size is checked before anything is written, so an archive
// that would write outside the destination (absolute paths, "..") or expand
// to an absurd size (a zip bomb) is refused as a whole.
#pragma once

#include <cstdint>
#include <string>

namespace tandem {

struct ZipLimits {
  uint64_t max_total_bytes = uint64_t{1} << 30;  // sum of the uncompressed sizes (1 GiB)
  uint64_t max_entries = 10000;
};

struct ZipExtractResult {
  uint64_t files = 0;
  uint64_t bytes = 0;  // uncompressed bytes written
};

// Extracts `zip_path` into `dest_dir`, an existing directory that the caller
// owns (a fresh temporary: files are created exclusively, so a duplicate
// entry is an error rather than a silent overwrite). Throws tandem::Error
// naming the archive and entry for: an unreadable or inconsistent archive,
// more than max_entries entries, an absolute or ".."-containing name, a
// symbolic link, declared sizes adding up to more than max_total_bytes, an
// entry that inflates beyond its declared size or fails its CRC, and any
// write error. What was written before an error is left for the caller to
// remove with its temporary directory.
ZipExtractResult extract_zip(const std::string& zip_path, const std::string& dest_dir,
                             const ZipLimits& limits = {});

}  // namespace tandem
