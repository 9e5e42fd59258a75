// Which MovieLens release a data directory holds, and where its ratings and
// item titles are: 100K (u.data, u.item), 1M (ratings.dat, movies.dat) or
// latest/20M/25M (ratings.csv, movies.csv).
#pragma once

#include <optional>
#include <string>

#include "tandem/data/catalogue.h"
#include "tandem/data/ratings.h"

namespace tandem {

// kGenericCsv ("csv") is not a directory layout: its files and columns are
// configured (data/csv_ratings.h), so it is never detected and has no
// dataset_files().
enum class DatasetLayout { kMovieLens100K, kMovieLens1M, kMovieLensCsv, kGenericCsv };

// "movielens-100k", "movielens-1m", "movielens-csv", "csv".
std::string to_string(DatasetLayout layout);
// The names above; "auto" is the caller's business. Unknown names are an
// error listing the known ones.
DatasetLayout parse_dataset_layout(const std::string& name);

// The layout whose ratings file `dir` holds (u.data first, then ratings.dat,
// then ratings.csv), or nullopt.
std::optional<DatasetLayout> detect_dataset_layout(const std::string& dir);

struct DatasetFiles {
  std::string ratings, items;  // paths inside the directory
  RatingsFormat ratings_format;
  CatalogueFormat items_format;
};
DatasetFiles dataset_files(const std::string& dir, DatasetLayout layout);

}  // namespace tandem
