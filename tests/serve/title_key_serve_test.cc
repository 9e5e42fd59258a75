// Serving a model whose items are keyed by title (the tfrs preset): either id
// of a shared title is accepted and answered as its one catalogue entry, and
// a recommendation lists the title once.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "support/tiny_movielens.h"
#include "tandem/experiment/experiment.h"
#include "tandem/serve/recommender.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

TEST(TitleKeyServing, EitherIdOfASharedTitleIsItsOneEntry) {
  const fs::path dir = fs::temp_directory_path() / ("tandem_title_serve_" + std::to_string(::getpid()));
  testing::write_tiny_movielens(dir);
  testing::write_tiny_shared_title(dir);  // movies 3 and 5 share a title
  const ExperimentConfig c = testing::tiny_config("tfrs", dir);
  auto [model, result] = train_and_evaluate(c, prepare_data(c), "joint");
  fs::remove_all(dir);
  const Recommender rec(std::move(model), RecommenderOptions{});
  EXPECT_EQ(rec.catalogue_size(), 41);

  EXPECT_EQ(rec.score("1", {5}), rec.score("1", {3}));
  EXPECT_NE(rec.score("1", {5}), rec.score("1", {4}));
  const auto similar_to_5 = rec.similar(5, 3), similar_to_3 = rec.similar(3, 3);
  ASSERT_EQ(similar_to_5.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(similar_to_5[i].item_id, similar_to_3[i].item_id);
    EXPECT_NE(similar_to_5[i].item_id, 3);  // the item itself is excluded under either id
  }

  const RecommendResult r = rec.recommend("1", 41, 41, false);
  std::set<std::string> titles;
  for (const auto& item : r.items) EXPECT_TRUE(titles.insert(item.title).second) << item.title;
  EXPECT_EQ(titles.size(), 41u);
  EXPECT_THROW(rec.score("1", {43}), RequestError);
}

}  // namespace
}  // namespace tandem
