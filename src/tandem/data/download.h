// Fetching a registered dataset into a cache directory: download, verify,
// extract, and only then make it visible under its final name.
//
// Layout: <cache>/<name>/ is the archive's top directory (for ml-100k, the
// directory holding u.data), with a marker file kVerifiedMarker recording the
// checksum it was verified against. The marker is the last file written, in
// a private temporary directory that is renamed into place only after it: a
// download that fails or is interrupted at any point leaves at most hidden
// temporaries (".<name>.*", removed by the next run), never a <cache>/<name>
// that looks complete.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "tandem/data/dataset_registry.h"
#include "tandem/data/http_fetch.h"
#include "tandem/data/zip_extract.h"

namespace tandem {

inline constexpr const char* kVerifiedMarker = ".tandem-verified";

struct DownloadOptions {
  std::string cache_dir;                     // "" = default_cache_dir()
  std::string base_url = kGroupLensBaseUrl;  // the archive is <base_url>/<name>.zip
  bool force = false;                        // fetch again even if verified in the cache
  FetchLimits fetch;
  ZipLimits zip;
  std::function<void(const std::string&)> log;  // progress lines (may be empty)
};

// What the cache holds for one dataset.
struct CacheStatus {
  std::string directory;  // <cache>/<name>, whether or not it exists
  bool verified = false;  // complete, with a marker matching the registry
  std::string checksum;   // from the marker, e.g. "sha256:<hex>"
  std::string state;      // one line: "verified", "not downloaded", or what is wrong
};

// Looks only at the file system: never makes a request.
CacheStatus cache_status(const DatasetInfo& info, const std::string& cache_dir);

struct DownloadResult {
  std::string directory;
  std::string checksum;  // "sha256:<hex>", or "md5:<hex>" when checked against GroupLens' .md5
  bool fetched = false;  // false: already verified in the cache, no request was made
  std::string url;       // the archive URL (after redirects when fetched)
  uint64_t archive_bytes = 0;  // when fetched
};

// Makes `info` available in the cache and returns where. When the cache
// already holds a verified copy (and not options.force) no request is made.
// Otherwise downloads <base_url>/<name>.zip into a temporary in the cache
// directory, checks its SHA-256 (and size) against the registry, or, for an
// entry without a pinned checksum, against <base_url>/<name>.zip.md5;
// extracts it into a temporary directory, checks it holds
// <top_dir>/<key_file>, writes the marker and renames it into place,
// replacing any previous copy. Concurrent downloads into one cache are
// serialised by a lock file. Throws tandem::Error for an uncreatable or
// unwritable cache directory, any fetch or extraction error (see
// http_fetch.h, zip_extract.h), a checksum mismatch (expected and actual
// checksum and size), and an archive without the expected layout.
DownloadResult download_dataset(const DatasetInfo& info, const DownloadOptions& options);

}  // namespace tandem
