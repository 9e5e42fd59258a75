// The same tiny data written in the three MovieLens layouts trains and
// evaluates to the same result: the layouts differ only in how they are read.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/tiny_movielens.h"
#include "tandem/experiment/experiment.h"
#include "tandem/core/error.h"
#include "tandem/data/dataset_layout.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

// Rewrites a u.data/u.item directory as ratings.dat/movies.dat or
// ratings.csv/movies.csv (titles with a comma get CSV quotes).
void rewrite(const fs::path& from, const fs::path& to, DatasetLayout layout) {
  fs::create_directories(to);
  const Ratings r = load_ratings((from / "u.data").string());
  const Catalogue c = load_catalogue((from / "u.item").string());
  const bool csv = layout == DatasetLayout::kMovieLensCsv;
  const std::string sep = csv ? "," : "::";
  std::ofstream ratings(to / (csv ? "ratings.csv" : "ratings.dat"));
  if (csv) ratings << "userId,movieId,rating,timestamp\n";
  for (size_t i = 0; i < r.size(); ++i)
    ratings << r.users[i] << sep << r.items[i] << sep << r.ratings[i] << sep << r.timestamps[i] << '\n';
  std::ofstream movies(to / (csv ? "movies.csv" : "movies.dat"));
  if (csv) movies << "movieId,title,genres\n";
  for (size_t i = 0; i < c.size(); ++i) {
    const std::string title = c.titles[i] + (i == 0 ? ", The" : "");
    movies << c.item_ids[i] << sep << (csv && i == 0 ? "\"" + title + "\"" : title) << sep << "Drama\n";
  }
}

TEST(DatasetLayouts, AllThreeTrainToTheSameResult) {
  const fs::path base = fs::temp_directory_path() / ("tandem_layouts_" + std::to_string(::getpid()));
  testing::write_tiny_movielens(base / "100k");
  rewrite(base / "100k", base / "1m", DatasetLayout::kMovieLens1M);
  rewrite(base / "100k", base / "csv", DatasetLayout::kMovieLensCsv);
  EXPECT_EQ(detect_dataset_layout((base / "100k").string()), DatasetLayout::kMovieLens100K);
  EXPECT_EQ(detect_dataset_layout((base / "1m").string()), DatasetLayout::kMovieLens1M);
  EXPECT_EQ(detect_dataset_layout((base / "csv").string()), DatasetLayout::kMovieLensCsv);
  EXPECT_EQ(detect_dataset_layout(base.string()), std::nullopt);

  std::vector<RunResult> results;
  for (const std::string dir : {"100k", "1m", "csv"}) {
    ExperimentConfig c = testing::tiny_config("tfrs", base / dir);
    const PreparedData data = prepare_data(c);
    EXPECT_EQ(data.catalogue.size(), 42u) << dir;
    if (dir != "100k") {
      EXPECT_EQ(data.catalogue.items.titles[0], "Movie 1 (1991), The") << dir;
    }
    results.push_back(train_and_evaluate(c, data, "joint").second);
  }
  for (size_t i = 1; i < results.size(); ++i) {
    EXPECT_EQ(results[i].eval.topk_accuracy, results[0].eval.topk_accuracy);
    EXPECT_EQ(results[i].eval.rmse, results[0].eval.rmse);
  }

  // A format that does not match the files is an error naming them.
  ExperimentConfig wrong = testing::tiny_config("tfrs", base / "csv");
  wrong.data_format = "movielens-1m";
  EXPECT_THROW(prepare_data(wrong), Error);
  wrong.data_format = "movielens-2m";
  EXPECT_THROW(wrong.validate(), Error);
  fs::remove_all(base);
}

}  // namespace
}  // namespace tandem
