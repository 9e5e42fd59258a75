#include "tandem/data/dataset_registry.h"

#include "tandem/core/error.h"

namespace tandem {

// Sizes and SHA-256 sums as recorded in TensorFlow Datasets' checksum file
// for its movielens builder (tensorflow/datasets,
// tensorflow_datasets/url_checksums/movielens.txt), which downloads exactly
// these URLs. The ml-1m sum is also pinned by the TensorFlow Authors'
// on-device recommendation example, and several independent projects quote
// the same SHA-256 sums beside the MD5 sums GroupLens publishes (ml-100k:
// 0e33842e24a9c977be4e0107933c0723, ml-1m: c4d9eecfca2ab87c1945afe126590906).
// They could not be recomputed here (no network), so they are taken from
// those sources. GroupLens says its "latest" datasets change over time: should
// it replace ml-latest-small, the download stops with a checksum mismatch
// naming both sums rather than unpacking data nobody has vetted, and the
// entry here must be updated.
const DatasetRegistry& movielens_registry() {
  static const DatasetRegistry registry = {
      {"ml-100k", "ml-100k", "u.data", 4924029,
       "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229", true,
       "100,000 ratings; u.data (tab-separated) and u.item ('|'-separated, latin-1)"},
      {"ml-1m", "ml-1m", "ratings.dat", 5917549,
       "a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20", true,
       "1,000,209 ratings; ratings.dat and movies.dat ('::'-separated)"},
      {"ml-latest-small", "ml-latest-small", "ratings.csv", 978202,
       "696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436", true,
       "100,836 ratings; ratings.csv and movies.csv (CSV with a header row)"},
  };
  return registry;
}

const DatasetInfo& find_dataset(const DatasetRegistry& registry, const std::string& name) {
  for (const DatasetInfo& d : registry)
    if (d.name == name) return d;
  std::string known;
  for (const DatasetInfo& d : registry) known += (known.empty() ? "" : ", ") + d.name;
  TANDEM_THROW("unknown dataset '" << name << "'; known datasets: " << known);
}

}  // namespace tandem
