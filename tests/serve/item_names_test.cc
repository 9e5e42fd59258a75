// Models trained on string item ids answer in those strings: the API writes
// every item_id as its name and resolves names in requests (hashed), while
// models with integer ids keep numbers.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "support/tiny_movielens.h"
#include "tandem/experiment/experiment.h"
#include "tandem/serve/api_json.h"
#include "tandem/serve/recommender.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

TrainedModel tiny_model() {
  const fs::path dir = fs::temp_directory_path() / ("tandem_item_names_" + std::to_string(::getpid()));
  testing::write_tiny_movielens(dir);
  const ExperimentConfig c = testing::tiny_config("tfrs", dir);
  const PreparedData data = prepare_data(c);
  auto [model, result] = train_and_evaluate(c, data, "joint");
  fs::remove_all(dir);
  return std::move(model);
}

// Raw item id i named "m<i>", as interning a file of such ids would.
std::shared_ptr<const std::vector<std::string>> item_names(int64_t n) {
  auto v = std::make_shared<std::vector<std::string>>();
  for (int64_t i = 0; i < n; ++i) v->push_back("m" + std::to_string(i));
  return v;
}

TEST(ItemNames, ResponsesNameItemsAndRequestsResolveNames) {
  TrainedModel m = tiny_model();
  int64_t max_id = 0;
  for (int64_t id : m.catalogue.items.item_ids) max_id = std::max(max_id, id);
  m.names.items = item_names(max_id + 1);
  const Recommender rec(std::move(m), RecommenderOptions{});
  const auto* names = rec.model().names.items.get();

  const RecommendResult r = rec.recommend("5", 5, 10, false);
  const auto j = encode_recommend_result("5", r, names);
  ASSERT_EQ(j["items"].size(), r.items.size());
  for (size_t i = 0; i < r.items.size(); ++i)
    EXPECT_EQ(j["items"][i]["item_id"], "m" + std::to_string(r.items[i].item_id));
  // Without names (an integer-id model) the same result keeps numbers.
  EXPECT_EQ(encode_recommend_result("5", r)["items"][0]["item_id"], r.items[0].item_id);

  EXPECT_EQ(resolve_item_names({"m7", "m3"}, rec, "item_ids"), (std::vector<int64_t>{7, 3}));
  try {
    resolve_item_names({"m7", "nope"}, rec, "item_ids");
    FAIL() << "an unknown name must be refused";
  } catch (const RequestError& e) {
    EXPECT_EQ(e.code(), "unknown_item");
    EXPECT_EQ(e.field(), "item_ids");
    EXPECT_NE(std::string(e.what()).find("'nope'"), std::string::npos) << e.what();
  }
  const auto scores = rec.score("5", {7, 3});
  const auto s = encode_scores("5", {7, 3}, scores, rec.ranking_output(), names);
  EXPECT_EQ(s["predictions"][0]["item_id"], "m7");
  const auto sim = encode_similar_items(7, rec.similar(7, 3), names);
  EXPECT_EQ(sim["item_id"], "m7");
  EXPECT_TRUE(sim["items"][0]["item_id"].is_string());
}

TEST(ItemNames, IntegerIdModelsRefuseNames) {
  const Recommender rec(tiny_model(), RecommenderOptions{});
  EXPECT_THROW(resolve_item_names({"m7"}, rec, "item_ids"), RequestError);
}

TEST(ItemNames, ScoreRequestsTakeNamesOrNumbersNotBoth) {
  const ScoreRequest names = decode_score_request(R"({"user_id": "a", "item_ids": ["x", "y"]})", 10);
  EXPECT_EQ(names.item_names, (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(names.item_ids.empty());
  const ScoreRequest numbers = decode_score_request(R"({"user_id": "a", "item_ids": [1, 2]})", 10);
  EXPECT_EQ(numbers.item_ids, (std::vector<int64_t>{1, 2}));
  EXPECT_TRUE(numbers.item_names.empty());
  EXPECT_THROW(decode_score_request(R"({"user_id": "a", "item_ids": ["x", 2]})", 10), RequestError);
  EXPECT_THROW(decode_score_request(R"({"user_id": "a", "item_ids": [1, "x"]})", 10), RequestError);
}

}  // namespace
}  // namespace tandem
