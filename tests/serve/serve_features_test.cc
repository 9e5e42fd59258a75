// Serving a model with side-feature towers: retrieval and ranking read the
// towers' outputs (computed once at load, the timestamp at its most recent
// bucket), equal to the model's own inference path.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <set>

#include "support/tiny_movielens.h"
#include "tandem/experiment/experiment.h"
#include "tandem/serve/api_json.h"
#include "tandem/serve/recommender.h"
#include "tandem/serve/user_features.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

TrainedModel train_with_features(MultitaskArch arch = MultitaskArch::kSharedBottom) {
  const fs::path dir = fs::temp_directory_path() / ("tandem_serve_features_" + std::to_string(::getpid()));
  testing::write_tiny_movielens(dir);
  testing::write_tiny_side_files(dir);
  ExperimentConfig c = testing::tiny_config("tfrs", dir);
  testing::enable_all_side_features(c);
  c.multitask.arch = arch;
  c.multitask.experts = 3;
  c.multitask.expert_dim = 8;
  auto [model, result] = train_and_evaluate(c, prepare_data(c), "joint");
  fs::remove_all(dir);
  return std::move(model);
}

TEST(ServeWithFeatures, RankerAndRetrievalUseTowerOutputs) {
  RecommenderOptions o;
  o.limits = {50, 40, 30};
  const Recommender rec(train_with_features(), o);
  const MultiTaskModel& m = *rec.model().model;
  ASSERT_TRUE(m.shape().has_towers());
  const int64_t d = m.task_dim();
  EXPECT_EQ(d, 8);

  // Ranking: the precomputed and per-request paths equal predict_ratings.
  const CandidateRanker pre(m, int64_t{1} << 30), lazy(m, 0);
  const auto n_items = m.shape().item_rows;
  std::vector<int32_t> items(static_cast<size_t>(n_items));
  std::iota(items.begin(), items.end(), 0);
  CandidateRanker::Scratch scratch;
  double worst = 0.0;
  for (int32_t u = 0; u < m.shape().user_rows; ++u) {
    std::vector<int32_t> users(items.size(), u);
    std::vector<float> want(items.size()), a(items.size()), b(items.size()), tmp;
    m.predict_ratings(users.data(), items.data(), n_items, want.data(), tmp);
    pre.predict(u, items.data(), n_items, a.data(), scratch);
    lazy.predict(u, items.data(), n_items, b.data(), scratch);
    for (size_t i = 0; i < items.size(); ++i) {
      worst = std::max<double>(worst, std::abs(a[i] - want[i]));
      worst = std::max<double>(worst, std::abs(b[i] - want[i]));
    }
  }
  EXPECT_LT(worst, 1e-5);

  // Retrieval: the candidates are the top 20 by user-tower . item-tower.
  const TrainedModel& tm = rec.model();
  const int32_t urow = *tm.users.find(3);
  std::vector<float> q(static_cast<size_t>(d));
  std::vector<float> tower_scratch;
  m.user_vectors(Task::kRetrieval, &urow, 1, q.data(), tower_scratch);
  const std::vector<float> cand = tm.catalogue_embeddings();
  std::vector<std::pair<float, int64_t>> s;
  for (size_t c = 0; c < tm.catalogue.size(); ++c) {
    float dot = 0;
    for (int64_t j = 0; j < d; ++j) dot += q[j] * cand[c * d + j];
    s.emplace_back(dot, tm.catalogue.items.item_ids[c]);
  }
  std::stable_sort(s.begin(), s.end(), [](auto& a, auto& b) { return a.first > b.first; });
  std::set<int64_t> want;
  for (int i = 0; i < 20; ++i) want.insert(s[static_cast<size_t>(i)].second);
  const auto r = rec.recommend("3", 20, 20, false);
  EXPECT_FALSE(r.cold_start);
  std::set<int64_t> got;
  for (const auto& it : r.items) got.insert(it.item_id);
  EXPECT_EQ(got, want);
}

// Tiny data's u.user line of user 5: age 25, M, artist, zip 10685.
RawUserFeatures features_of_user_5() {
  return {{"age", {"25"}}, {"gender", {"M"}}, {"occupation", {"artist"}}, {"zip", {"10685"}}};
}

// A cold-start user's features are encoded as training encoded its users'
// attributes: user 5's own values give user 5's bags.
TEST(ServeWithFeatures, RawFeaturesEncodeAsTrainingDid) {
  const TrainedModel tm = train_with_features();
  const UserFeatureEncoder enc(tm);
  ASSERT_TRUE(enc.available());
  const DescribedEntity e = enc.encode(features_of_user_5());
  const TowerSpec& spec = tm.model->shape().user_tower;
  ASSERT_EQ(e.bags.size(), spec.features.size());
  const int32_t row = *tm.users.find(5);
  for (size_t k = 0; k < spec.features.size(); ++k) {
    const TowerFeature& f = spec.features[k];
    if (f.per_example) continue;
    const std::vector<int32_t> want(f.values.begin() + f.offsets[static_cast<size_t>(row)],
                                    f.values.begin() + f.offsets[static_cast<size_t>(row) + 1]);
    EXPECT_EQ(e.bags[k], want) << f.name;
  }
  EXPECT_EQ(e.id_row, Vocabulary::kOovRow);  // tfrs: the vocabulary's OOV row
  EXPECT_FALSE(e.timestamp);
  // Left out: the OOV row, as a user without a u.user line; an unseen value too.
  const DescribedEntity partial = enc.encode({{"occupation", {"astronaut"}}, {"timestamp", {"880000500"}}});
  for (size_t k = 0; k < spec.features.size(); ++k)
    if (!spec.features[k].per_example) {
      EXPECT_EQ(partial.bags[k], std::vector<int32_t>{0}) << spec.features[k].name;
    }
  EXPECT_EQ(partial.timestamp, 880000500);
  auto error_of = [&](const RawUserFeatures& f) -> std::pair<std::string, std::string> {
    try {
      enc.encode(f);
    } catch (const RequestError& e) {
      return {e.code(), e.field()};
    }
    return {"", ""};
  };
  EXPECT_EQ(error_of({{"shoe_size", {"9"}}}), std::make_pair(std::string("unknown_feature"), std::string("features.shoe_size")));
  EXPECT_EQ(error_of({{"age", {"old"}}}), std::make_pair(std::string("invalid_feature"), std::string("features.age")));
  EXPECT_EQ(error_of({{"timestamp", {"soon"}}}), std::make_pair(std::string("invalid_feature"), std::string("features.timestamp")));
  EXPECT_EQ(error_of({{"gender", {}}}), std::make_pair(std::string("invalid_feature"), std::string("features.gender")));
}

// An unknown user with features is retrieved by its described tower vector and
// ranked by the head, like a known user; with experts too.
TEST(ServeWithFeatures, ColdStartUserDescribedByFeaturesGetsARealAnswer) {
  for (auto arch : {MultitaskArch::kSharedBottom, MultitaskArch::kMmoe}) {
    RecommenderOptions o;
    o.limits = {50, 40, 30};
    const Recommender rec(train_with_features(arch), o);
    const TrainedModel& tm = rec.model();
    const MultiTaskModel& m = *tm.model;
    const RawUserFeatures f = features_of_user_5();
    const auto r = rec.recommend("9999", 10, 20, true, &f);
    EXPECT_TRUE(r.cold_start);
    EXPECT_TRUE(r.from_features);
    EXPECT_EQ(r.index, "exact");
    ASSERT_EQ(r.items.size(), 10u);
    for (size_t i = 0; i < r.items.size(); ++i) {
      ASSERT_TRUE(r.items[i].predicted_rating) << i;
      if (i > 0) {
        EXPECT_GE(*r.items[i - 1].predicted_rating, *r.items[i].predicted_rating);
      }
    }
    // The candidates are the top 20 by the described retrieval vector.
    const UserFeatureEncoder enc(tm);
    const DescribedEntity e = enc.encode(f);
    const int64_t d = m.task_dim();
    std::vector<float> q(static_cast<size_t>(d)), scratch;
    m.described_user_vector(Task::kRetrieval, e, q.data(), scratch);
    const std::vector<float> cand = tm.catalogue_embeddings();
    std::vector<std::pair<float, int64_t>> s;
    for (size_t c = 0; c < tm.catalogue.size(); ++c) {
      float dot = 0;
      for (int64_t j = 0; j < d; ++j) dot += q[static_cast<size_t>(j)] * cand[c * static_cast<size_t>(d) + static_cast<size_t>(j)];
      s.emplace_back(dot, tm.catalogue.items.item_ids[c]);
    }
    std::stable_sort(s.begin(), s.end(), [](auto& a, auto& b) { return a.first > b.first; });
    std::set<int64_t> top20;
    for (int i = 0; i < 20; ++i) top20.insert(s[static_cast<size_t>(i)].second);
    for (const auto& it : r.items) EXPECT_TRUE(top20.count(it.item_id)) << it.item_id;
    // Other features, another answer; a known user ignores the features.
    const RawUserFeatures g{{"age", {"61"}}, {"gender", {"F"}}, {"occupation", {"doctor"}}, {"zip", {"13836"}}};
    const auto other = rec.recommend("9999", 10, 20, true, &g);
    std::vector<float> a, b;
    for (const auto& it : r.items) a.push_back(*it.predicted_rating);
    for (const auto& it : other.items) b.push_back(*it.predicted_rating);
    EXPECT_NE(a, b);
    const auto known = rec.recommend("5", 10, 20, true, &g), plain = rec.recommend("5", 10, 20, true);
    EXPECT_FALSE(known.from_features);
    ASSERT_EQ(known.items.size(), plain.items.size());
    for (size_t i = 0; i < known.items.size(); ++i) EXPECT_EQ(known.items[i].item_id, plain.items[i].item_id);
    // Through the JSON the server reads and writes.
    const RecommendRequest q2 = decode_recommend_request(
        R"({"user_id": "9999", "k": 10, "candidates": 20, "exclude_seen": true,
            "features": {"age": 25, "gender": "M", "occupation": ["artist"], "zip": "10685"}})");
    ASSERT_TRUE(q2.features);
    EXPECT_EQ(*q2.features, f);
    const auto j = encode_recommend_result("9999", rec.recommend(q2.user_id, q2.k, q2.candidates,
                                                                     q2.exclude_seen, &*q2.features));
    EXPECT_EQ(j.at("from_features"), true);
    EXPECT_EQ(j.at("items").size(), 10u);
    EXPECT_EQ(j.at("items")[0].at("item_id"), r.items[0].item_id);
  }
}

TEST(ServeWithFeatures, FeaturesNeedAModelWithUserFeatures) {
  const fs::path dir = fs::temp_directory_path() / ("tandem_serve_nofeatures_" + std::to_string(::getpid()));
  testing::write_tiny_movielens(dir);
  const ExperimentConfig c = testing::tiny_config("tfrs", dir);
  auto [model, result] = train_and_evaluate(c, prepare_data(c), "joint");
  fs::remove_all(dir);
  const Recommender rec(std::move(model));
  const RawUserFeatures f{{"age", {"30"}}};
  try {
    rec.recommend("9999", 5, 5, false, &f);
    FAIL() << "accepted features for a model without them";
  } catch (const RequestError& e) {
    EXPECT_EQ(e.code(), "features_unsupported");
    EXPECT_EQ(e.field(), "features");
  }
  EXPECT_THROW(decode_recommend_request(R"({"user_id": "1", "features": [1]})"), RequestError);
  EXPECT_THROW(decode_recommend_request(R"({"user_id": "1", "features": {"age": 1.5}})"), RequestError);
}

}  // namespace
}  // namespace tandem
