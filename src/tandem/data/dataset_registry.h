// The MovieLens archives `tandem data download` knows: where GroupLens
// publishes them, what they must hash to, and what Tandem can do with them.
// A registry is a plain value so that tests can point one at a local server
// with archives of their own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tandem {

// Where GroupLens serves its archives: <base>/<name>.zip (and <name>.zip.md5).
inline constexpr const char* kGroupLensBaseUrl = "https://files.grouplens.org/datasets/movielens";

struct DatasetInfo {
  std::string name;        // "ml-100k": the archive is <name>.zip
  std::string top_dir;     // the one directory the archive unpacks to
  std::string key_file;    // a file inside top_dir that every complete copy holds
  uint64_t archive_bytes;  // expected archive size; 0 if not known
  // Lower-case hex SHA-256 of <name>.zip. Empty when no checksum could be
  // pinned: the download then checks the <name>.zip.md5 GroupLens publishes.
  std::string sha256;
  bool tandem_can_train;  // true when the loaders read this layout (see dataset_layout.h)
  std::string format;     // one line: how the ratings are stored
};

using DatasetRegistry = std::vector<DatasetInfo>;

// ml-100k, ml-1m and ml-latest-small, as GroupLens publishes them.
const DatasetRegistry& movielens_registry();

// The entry called `name`; an unknown name is an error listing the known ones.
const DatasetInfo& find_dataset(const DatasetRegistry& registry, const std::string& name);

}  // namespace tandem
