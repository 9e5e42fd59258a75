#include "tandem/data/dataset_layout.h"

#include <filesystem>

#include "tandem/core/error.h"

namespace tandem {

namespace fs = std::filesystem;

std::string to_string(DatasetLayout layout) {
  switch (layout) {
    case DatasetLayout::kMovieLens100K: return "movielens-100k";
    case DatasetLayout::kMovieLens1M: return "movielens-1m";
    case DatasetLayout::kMovieLensCsv: return "movielens-csv";
    case DatasetLayout::kGenericCsv: return "csv";
  }
  return "unknown";
}

DatasetLayout parse_dataset_layout(const std::string& name) {
  for (const auto l : {DatasetLayout::kMovieLens100K, DatasetLayout::kMovieLens1M,
                       DatasetLayout::kMovieLensCsv, DatasetLayout::kGenericCsv})
    if (to_string(l) == name) return l;
  TANDEM_THROW("unknown data format '"
               << name << "' (known: auto, movielens-100k, movielens-1m, movielens-csv, csv)");
}

std::optional<DatasetLayout> detect_dataset_layout(const std::string& dir) {
  std::error_code ec;
  if (fs::is_regular_file(fs::path(dir) / "u.data", ec)) return DatasetLayout::kMovieLens100K;
  if (fs::is_regular_file(fs::path(dir) / "ratings.dat", ec)) return DatasetLayout::kMovieLens1M;
  if (fs::is_regular_file(fs::path(dir) / "ratings.csv", ec)) return DatasetLayout::kMovieLensCsv;
  return std::nullopt;
}

DatasetFiles dataset_files(const std::string& dir, DatasetLayout layout) {
  const fs::path d(dir);
  switch (layout) {
    case DatasetLayout::kMovieLens1M:
      return {(d / "ratings.dat").string(), (d / "movies.dat").string(), movielens_1m_ratings(),
              movielens_1m_items()};
    case DatasetLayout::kMovieLensCsv:
      return {(d / "ratings.csv").string(), (d / "movies.csv").string(), movielens_csv_ratings(),
              movielens_csv_items()};
    case DatasetLayout::kGenericCsv:
      TANDEM_THROW("the csv data format has no fixed files in a directory: give its ratings file");
    case DatasetLayout::kMovieLens100K:
      break;
  }
  return {(d / "u.data").string(), (d / "u.item").string(), movielens_100k_ratings(), movielens_100k_items()};
}

}  // namespace tandem
