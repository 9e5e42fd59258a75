// Items keyed by title (the tfrs preset, as TFRS's StringLookup over movie
// titles): ids sharing a title share a row, the top-K accuracy's candidates
// are every items-file entry (a shared row twice, as FactorizedTopK over
// `movies.batch(128).map(movie_model)`), and recommendations list a title once.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "support/movielens_data.h"
#include "support/tiny_movielens.h"
#include "tandem/evaluate/evaluation.h"
#include "tandem/experiment/experiment.h"
#include "tandem/serve/recommender.h"
#include "tandem/artifact/trained_model.h"
#include "tandem/evaluate/topk.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

// Hand-computed: rows 1, 2, 3 score 3, 2, 1 for the query [1]; row 2 is a
// candidate twice. A positive's rank counts the candidates scoring strictly
// higher, copies included, so row 3 has rank 3 (row 1, row 2 twice), row 2
// rank 1 (its copy ties, and ties count in its favour), row 1 rank 0.
TEST(TitleKeys, SharedRowsCountTwiceAmongTheCandidates) {
  RetrievalCatalogue cat;
  cat.items.item_ids = {10, 20, 30};
  cat.items.titles = {"A", "B", "C"};
  cat.rows = {1, 2, 3};
  cat.candidate_rows = {1, 2, 2, 3};
  const std::vector<float> vectors = {3.0f, 2.0f, 1.0f};  // per catalogue entry, dim 1
  const CandidateSet all = candidate_set(cat, vectors, 1, 4);
  ASSERT_EQ(all.matrix.count, 4);
  EXPECT_EQ(all.repeated, (std::vector<float>{3.0f, 2.0f, 2.0f, 1.0f}));
  const float query[3] = {1.0f, 1.0f, 1.0f};
  const int64_t positives[3] = {all.index[3], all.index[2], all.index[1]};
  EXPECT_EQ(positive_ranks(query, 3, all.matrix, positives), (std::vector<int64_t>{3, 1, 0}));
  // Without repeats the candidates are the catalogue's own vectors.
  cat.candidate_rows.clear();
  const CandidateSet own = candidate_set(cat, vectors, 1, 4);
  EXPECT_TRUE(own.repeated.empty());
  EXPECT_EQ(own.matrix.data, vectors.data());
  EXPECT_EQ(own.matrix.count, 3);
  EXPECT_EQ(own.index[3], 2);
}

TEST(TitleKeys, MovieLens100KHas1664TitlesAnd1682Candidates) {
  TANDEM_REQUIRE_MOVIELENS();
  ExperimentConfig c = preset_config("tfrs");
  c.data_dir = testing::movielens_dir();
  const PreparedData d = prepare_data(c);
  EXPECT_EQ(d.items.kind(), Vocabulary::Kind::kKeyed);
  EXPECT_EQ(d.items.rows(), 1665);  // 1664 titles + the OOV row
  EXPECT_EQ(d.catalogue.size(), 1664u);
  EXPECT_EQ(d.catalogue.candidates().size(), 1682u);
  // Chasing Amy (1997) is movies 246 and 268: one row, listed once as 246.
  ASSERT_TRUE(d.items.find(246).has_value());
  EXPECT_EQ(d.items.find(246), d.items.find(268));
  EXPECT_NE(d.items.find(246), d.items.find(247));
  EXPECT_EQ(d.items.raw_id(*d.items.find(268)), 246);
  const auto& ids = d.catalogue.items.item_ids;
  EXPECT_NE(std::find(ids.begin(), ids.end(), 246), ids.end());
  EXPECT_EQ(std::find(ids.begin(), ids.end(), 268), ids.end());
  // Rows follow the sorted titles (np.unique), from 1.
  for (size_t i = 1; i < d.catalogue.size(); ++i) {
    const auto a = static_cast<size_t>(d.catalogue.rows[i - 1]), b = static_cast<size_t>(d.catalogue.rows[i]);
    if (a < b) {
      EXPECT_LT(d.catalogue.items.titles[i - 1], d.catalogue.items.titles[i]);
    } else {
      EXPECT_GT(d.catalogue.items.titles[i - 1], d.catalogue.items.titles[i]);
    }
  }
  EXPECT_EQ(std::set<int32_t>(d.catalogue.rows.begin(), d.catalogue.rows.end()).size(), 1664u);
  // 18 rows are candidates twice.
  std::map<int32_t, int> times;
  for (int32_t r : d.catalogue.candidates()) times[r] += 1;
  int twice = 0;
  for (const auto& [row, n] : times) twice += n == 2;
  EXPECT_EQ(twice, 18);

  // Keyed by id (the kerasrs preset's way, or item_key = id), every movie
  // is its own row and its own candidate.
  c.item_key = ItemKey::kId;
  const PreparedData by_id = prepare_data(c);
  EXPECT_EQ(by_id.items.rows(), 1683);
  EXPECT_EQ(by_id.catalogue.size(), 1682u);
  EXPECT_TRUE(by_id.catalogue.candidate_rows.empty());
  EXPECT_NE(by_id.items.find(246), by_id.items.find(268));
}

// A tiny data set in which movies 3 and 5 share a title.
class TitleKeyedModel : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tandem_title_keys_" + std::to_string(::getpid()));
    testing::write_tiny_movielens(dir_);
    testing::write_tiny_shared_title(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(TitleKeyedModel, EvaluatesOverEveryEntryAndRecommendsEachTitleOnce) {
  const ExperimentConfig c = testing::tiny_config("tfrs", dir_);
  const PreparedData data = prepare_data(c);
  ASSERT_EQ(data.catalogue.size(), 41u);
  ASSERT_EQ(data.catalogue.candidates().size(), 42u);
  auto [model, result] = train_and_evaluate(c, data, "joint");
  EXPECT_EQ(result.eval.catalogue_items, 41);
  EXPECT_EQ(result.eval.candidates, 42);
  EXPECT_EQ(result.eval.to_json().at("candidates"), 42);

  // The model file keeps the keyed vocabulary and the candidate set.
  const fs::path file = dir_ / "m.tandem";
  save_model(file.string(), model);
  const TrainedModel back = load_model(file.string());
  EXPECT_EQ(back.items.kind(), Vocabulary::Kind::kKeyed);
  EXPECT_EQ(back.items.find(5), back.items.find(3));
  EXPECT_EQ(back.items.defining_rows(), model.items.defining_rows());
  EXPECT_EQ(back.catalogue.candidate_rows, model.catalogue.candidate_rows);
  EXPECT_EQ(back.config.item_key, ItemKey::kTitle);
  EXPECT_EQ(back.config.shuffle, ShuffleMode::kOnce);

  const Recommender rec(std::move(model));
  std::set<std::string> titles;
  for (const auto& r : rec.recommend("1", 41, 41, false).items)
    EXPECT_TRUE(titles.insert(r.title).second) << r.title << " listed twice";
  EXPECT_EQ(titles.size(), 41u);
}

}  // namespace
}  // namespace tandem
