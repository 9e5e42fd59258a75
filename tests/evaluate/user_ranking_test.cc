// The per-user ranking metrics, exclusion of seen items and AUC through the
// evaluation path (evaluate(), the popularity baseline), on models and data
// small enough to rank by hand.
#include "tandem/evaluate/user_ranking.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tandem/experiment/baseline.h"
#include "tandem/evaluate/eval_summary.h"
#include "tandem/evaluate/evaluation.h"
#include "tandem/core/error.h"
#include "tandem/evaluate/ranking_metrics.h"

namespace tandem {
namespace {

Examples examples(std::vector<int32_t> users, std::vector<int32_t> items) {
  Examples e;
  e.users = std::move(users);
  e.items = std::move(items);
  e.labels.assign(e.users.size(), 0.0f);
  return e;
}

RetrievalCatalogue catalogue_of_rows(int32_t n) {
  RetrievalCatalogue c;
  for (int32_t r = 0; r < n; ++r) {
    c.items.item_ids.push_back(r + 1);
    c.items.titles.push_back("item " + std::to_string(r + 1));
    c.rows.push_back(r);
  }
  return c;
}

// Dimension 1: user rows 0 and 2 have embedding +1, user 1 has -1; item rows
// 0..5 have 5, 4, 3, 2, 1, 0. So users 0 and 2 rank the items 0,1,2,3,4,5
// (rank of item i = i) and user 1 ranks them 5,4,3,2,1,0 (rank 5 - i).
class HandModel : public ::testing::Test {
 protected:
  HandModel() : model_(ModelShape{3, 6, 1, {2}}, 8) {
    model_.init(1);
    model_.user_table().weights = {1.0f, -1.0f, 1.0f};
    model_.item_table().weights = {5, 4, 3, 2, 1, 0};
    config_ = preset_config("tfrs");
    config_.k = 3;
    config_.accuracy_at = {1};
    config_.metrics_at = {3, 1, 3};  // unsorted, duplicated: reported once each, ascending
    // Test pairs (user, item, rating): (0,2,5) (0,4,3) (1,1,4) (1,4,5) (2,0,1).
    test_ = examples({0, 0, 1, 1, 2}, {2, 4, 1, 4, 0});
    ratings_ = {5, 3, 4, 5, 1};
    // Training: user 0 saw 0 and 3; user 1 saw 5 and 4 (4 is also its test
    // item, so it stays a candidate); user 2 saw 1.
    train_ = examples({0, 0, 1, 1, 2, 1}, {3, 0, 5, 4, 1, 5});
  }

  EvalResult run(const ExperimentConfig& c) {
    const SeenItems seen = seen_items_from(train_, 3);
    return evaluate(model_, c, catalogue_of_rows(6), test_, ratings_, {}, &seen);
  }

  MultiTaskModel model_;
  ExperimentConfig config_;
  Examples test_, train_;
  std::vector<float> ratings_;
};

const double kIdeal2 = 1.0 + 1.0 / std::log2(3.0);  // ideal DCG of 2 relevant items

// Every pair relevant, seen items kept. Ranks: user 0 {2, 4}, user 1 {4, 1}
// (items 1, 4), user 2 {0}.
//  K=1: only user 2 hits: recall, NDCG, AP 1 for it, 0 for the others.
//  K=3: user 0: 1 of 2 at position 2: recall 1/2, DCG 1/log2(4), AP (1/3)/2;
//       user 1: 1 of 2 at position 1: recall 1/2, DCG 1/log2(3), AP (1/2)/2;
//       user 2: all 1.   MRR: (1/3 + 1/2 + 1) / 3.
TEST_F(HandModel, RankingMetricsWithSeenItemsKept) {
  const EvalResult r = run(config_);
  EXPECT_FALSE(r.exclude_seen);
  EXPECT_EQ(r.ranking_users, 3);
  ASSERT_EQ(r.recall_at.size(), 2u);
  EXPECT_NEAR(r.recall_at.at(1), 1.0 / 3, 1e-12);
  EXPECT_NEAR(r.ndcg_at.at(1), 1.0 / 3, 1e-12);
  EXPECT_NEAR(r.map_at.at(1), 1.0 / 3, 1e-12);
  EXPECT_NEAR(r.recall_at.at(3), (0.5 + 0.5 + 1) / 3, 1e-12);
  EXPECT_NEAR(r.ndcg_at.at(3), (0.5 / kIdeal2 + (1 / std::log2(3.0)) / kIdeal2 + 1) / 3, 1e-12);
  EXPECT_NEAR(r.map_at.at(3), (1.0 / 6 + 1.0 / 4 + 1) / 3, 1e-12);
  EXPECT_NEAR(r.mrr, (1.0 / 3 + 1.0 / 2 + 1) / 3, 1e-12);
  // Top-K accuracy (per pair) from the ranks 2, 4, 4, 1, 0.
  EXPECT_DOUBLE_EQ(r.topk_accuracy, 3.0 / 5);
  EXPECT_DOUBLE_EQ(r.accuracy_at.at(1), 1.0 / 5);
}

// Seen items excluded. User 0 loses items 0 and 3: ranks {1, 2}; user 1 loses
// item 5 only (4 is a test item): ranks 3 (item 1) and 0 (item 4); user 2
// loses item 1, behind its item 0: rank 0.
//  K=1: user 0: 0; user 1: recall 1/2, NDCG 1 (ideal of min(2, 1) = 1 item),
//       AP 1/min(2, 1) = 1; user 2: 1.
//  K=3: user 0: both in: recall 1, DCG 1/log2(3) + 1/log2(4), AP (1/2 + 2/3)/2;
//       user 1: recall 1/2, DCG 1, AP 1/2; user 2: 1.   MRR (1/2 + 1 + 1) / 3.
TEST_F(HandModel, RankingMetricsWithSeenItemsExcluded) {
  ExperimentConfig c = config_;
  c.exclude_seen = true;
  const EvalResult r = run(c);
  EXPECT_TRUE(r.exclude_seen);
  EXPECT_EQ(r.ranking_users, 3);
  EXPECT_NEAR(r.recall_at.at(1), (0 + 0.5 + 1) / 3, 1e-12);
  EXPECT_NEAR(r.ndcg_at.at(1), 2.0 / 3, 1e-12);
  EXPECT_NEAR(r.map_at.at(1), 2.0 / 3, 1e-12);
  EXPECT_NEAR(r.recall_at.at(3), (1 + 0.5 + 1) / 3, 1e-12);
  EXPECT_NEAR(r.ndcg_at.at(3), ((1 / std::log2(3.0) + 0.5) / kIdeal2 + 1 / kIdeal2 + 1) / 3, 1e-12);
  EXPECT_NEAR(r.map_at.at(3), ((0.5 + 2.0 / 3) / 2 + 0.5 + 1) / 3, 1e-12);
  EXPECT_NEAR(r.mrr, (0.5 + 1 + 1) / 3, 1e-12);
  // Per-pair ranks 1, 2, 3, 0, 0: the top-K accuracy follows the exclusion.
  EXPECT_DOUBLE_EQ(r.topk_accuracy, 4.0 / 5);
  EXPECT_DOUBLE_EQ(r.accuracy_at.at(1), 2.0 / 5);
}

// Only 5-star pairs are relevant (as Keras-RS's top-K accuracy counts them):
// user 0 keeps item 2 (rank 2), user 1 item 4 (rank 1), user 2 has none and
// is left out.  K=3: recall 1 each; NDCG 1/log2(4) and 1/log2(3); AP 1/3 and
// 1/2; MRR the same 1/3 and 1/2.
TEST_F(HandModel, RelevanceFollowsTheMinimumRating) {
  ExperimentConfig c = config_;
  c.topk_min_rating = 5.0f;
  const EvalResult r = run(c);
  EXPECT_EQ(r.ranking_users, 2);
  EXPECT_NEAR(r.recall_at.at(1), 0.0, 1e-12);
  EXPECT_NEAR(r.recall_at.at(3), 1.0, 1e-12);
  EXPECT_NEAR(r.ndcg_at.at(3), (0.5 + 1 / std::log2(3.0)) / 2, 1e-12);
  EXPECT_NEAR(r.map_at.at(3), (1.0 / 3 + 1.0 / 2) / 2, 1e-12);
  EXPECT_NEAR(r.mrr, (1.0 / 3 + 1.0 / 2) / 2, 1e-12);
  EXPECT_DOUBLE_EQ(r.topk_weight, 2.0);
  EXPECT_DOUBLE_EQ(r.topk_accuracy, 1.0);
}

// With seen items kept, the per-user ranking gives every pair the rank the
// tutorials' per-pair path gives it.
TEST_F(HandModel, PerUserPairRanksEqualThePerPairPath) {
  const RetrievalCatalogue cat = catalogue_of_rows(6);
  const CandidateMatrix cm{model_.item_table().weights.data(), 6, 1};
  const QueryGather gather = [&](const int32_t* rows, int64_t m, float* out) {
    model_.user_table().gather(rows, m, out);
  };
  ExperimentConfig c = config_;
  c.eval_batch_size = 2;  // users in chunks of 2
  const UserRanking u = rank_test_users(gather, cm, cat.index_of_rows(6), test_, ratings_, c, nullptr);
  std::vector<float> q(test_.size());
  model_.user_table().gather(test_.users.data(), static_cast<int64_t>(q.size()), q.data());
  std::vector<int64_t> positives(test_.items.begin(), test_.items.end());
  EXPECT_EQ(u.pair_ranks, positive_ranks(q.data(), static_cast<int64_t>(q.size()), cm, positives.data()));
  EXPECT_EQ(u.pair_ranks, (std::vector<int64_t>{2, 4, 4, 1, 0}));
}

// The one-pass evaluation (seen items kept, no timestamps, no repeated
// candidates) reports the top-K accuracy the per-pair path gives, ties
// included (items 0 and 1, 2 and 3 share a score).
TEST_F(HandModel, OnePassAccuracyEqualsThePerPairPath) {
  model_.item_table().weights = {2, 2, 1, 1, 0, 0};
  for (int64_t k : {1, 2, 3, 4}) {
    ExperimentConfig c = config_;
    c.k = k;
    c.topk_min_rating.reset();
    const EvalResult r = evaluate(model_, c, catalogue_of_rows(6), test_, ratings_);
    std::vector<float> q(test_.size());
    model_.user_table().gather(test_.users.data(), static_cast<int64_t>(q.size()), q.data());
    std::vector<int64_t> positives(test_.items.begin(), test_.items.end());
    const CandidateMatrix cm{model_.item_table().weights.data(), 6, 1};
    EvalResult per_pair;
    fill_accuracy(per_pair, positive_ranks(q.data(), static_cast<int64_t>(q.size()), cm, positives.data()), c,
                  ratings_);
    EXPECT_EQ(r.accuracy_at, per_pair.accuracy_at) << "k " << k;
    EXPECT_DOUBLE_EQ(r.topk_accuracy, per_pair.topk_accuracy);
  }
}

// A relevant item outside the catalogue (row 5 left out) is never retrieved
// but still counts as relevant: user 0's item 4 is still rank 4 of 5.
TEST_F(HandModel, ItemsOutsideTheCatalogueAreNeverRetrieved) {
  RetrievalCatalogue cat = catalogue_of_rows(5);
  const Examples test = examples({0, 0}, {0, 5});
  const EvalResult r = evaluate(model_, config_, cat, test, {5, 5});
  EXPECT_EQ(r.ranking_users, 1);
  EXPECT_NEAR(r.recall_at.at(3), 0.5, 1e-12);  // item 0 in, item 5 never
  EXPECT_NEAR(r.mrr, 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(r.topk_accuracy, 0.5);
}

TEST_F(HandModel, ExcludeSeenNeedsTheTrainingItems) {
  ExperimentConfig c = config_;
  c.exclude_seen = true;
  EXPECT_THROW(evaluate(model_, c, catalogue_of_rows(6), test_, ratings_), Error);
  SeenItems too_few = seen_items_from(train_, 3);
  too_few.offsets.resize(2);  // user 0 only
  too_few.items.resize(static_cast<size_t>(too_few.offsets.back()));
  EXPECT_THROW(evaluate(model_, c, catalogue_of_rows(6), test_, ratings_, {}, &too_few), Error);
}

// AUC on the evaluation path: the rating head's predictions for the test
// pairs against rating >= 4 (three positives, two negatives).
TEST_F(HandModel, AucOfThePredictedRatings) {
  const EvalResult r = run(config_);
  std::vector<float> pred(test_.size()), scratch;
  model_.predict_ratings(test_.users.data(), test_.items.data(), static_cast<int64_t>(pred.size()),
                         pred.data(), scratch);
  EXPECT_EQ(r.auc_positives, 3);
  EXPECT_EQ(r.auc_negatives, 2);
  EXPECT_EQ(r.auc_threshold, 4.0);
  EXPECT_DOUBLE_EQ(r.auc, auc(pred, {1, 0, 1, 1, 0}));
}

// Scores 0.1, 0.4, 0.35, 0.8 with raw ratings 3, 3.5, 4, 5. Threshold 4:
// positives {0.35, 0.8} against {0.1, 0.4}: 3 of 4 pairs won. Threshold 3.5:
// positives {0.4, 0.35, 0.8} all beat 0.1. Threshold 1: no negative, NaN.
TEST(FillAuc, HandComputed) {
  EvalResult r;
  const std::vector<float> scores{0.1f, 0.4f, 0.35f, 0.8f}, ratings{3, 3.5f, 4, 5};
  fill_auc(r, scores, ratings, 4.0f);
  EXPECT_DOUBLE_EQ(r.auc, 0.75);
  EXPECT_EQ(r.auc_positives, 2);
  fill_auc(r, scores, ratings, 3.5f);
  EXPECT_DOUBLE_EQ(r.auc, 1.0);
  EXPECT_EQ(r.auc_positives, 3);
  fill_auc(r, scores, ratings, 1.0f);
  EXPECT_TRUE(std::isnan(r.auc));
  EXPECT_EQ(r.auc_negatives, 0);
  fill_auc(r, {0.1f, NAN}, {1, 5}, 4.0f);
  EXPECT_TRUE(std::isnan(r.auc));
  EXPECT_THROW(fill_auc(r, {0.1f}, {1, 5}, 4.0f), Error);
}

// The popularity baseline under the same protocol. Training counts: item 0
// rated 3 times, item 1 twice, item 2 once, items 3-5 never (tied: each has 3
// items above it). Seen: user 0 {0, 1}, user 1 {0, 2}, user 2 {0, 1}.
// Test (user, item, rating): (0,2,5) (0,3,4) (1,1,5) (2,5,2).
PreparedData popularity_data() {
  PreparedData d;
  d.users = Vocabulary::identity(2);
  d.items = Vocabulary::identity(5);
  d.catalogue = catalogue_of_rows(6);
  d.train = examples({0, 1, 2, 0, 2, 1}, {0, 0, 0, 1, 1, 2});
  d.train.labels = {4, 4, 4, 4, 4, 2};
  d.test = examples({0, 0, 1, 2}, {2, 3, 1, 5});
  d.test_ratings = {5, 4, 5, 2};
  d.test.labels = d.test_ratings;
  return d;
}

// Kept: ranks user 0 {2, 3}, user 1 {1}, user 2 {3}; K = 2: only user 1 hits,
// at position 1 (recall 1, NDCG 1/log2(3), AP 1/2); MRR (1/3 + 1/2 + 1/4)/3.
// Excluded: user 0 {0, 1}, user 1 {0}, user 2 {1} (behind item 2 only).
// K = 1: recall (1/2 + 1 + 0)/3, NDCG and AP (1 + 1 + 0)/3; K = 2: recall 1,
// NDCG (1 + 1 + 1/log2(3))/3, AP (1 + 1 + 1/2)/3; MRR (1 + 1 + 1/2)/3.
// AUC (label rating >= 4) of the items' counts 1, 0, 2 (positives) against
// 0 (negative): 1 + 1/2 + 1 of 3.
TEST(PopularityBaseline, RankingMetricsByHand) {
  const PreparedData d = popularity_data();
  ExperimentConfig c = preset_config("tfrs");
  c.k = 2;
  c.accuracy_at = {1};
  c.metrics_at = {1, 2};
  RunResult r = evaluate_popularity(c, d);
  EXPECT_EQ(r.eval.ranking_users, 3);
  EXPECT_NEAR(r.eval.recall_at.at(1), 0.0, 1e-12);
  EXPECT_NEAR(r.eval.recall_at.at(2), 1.0 / 3, 1e-12);
  EXPECT_NEAR(r.eval.ndcg_at.at(2), (1 / std::log2(3.0)) / 3, 1e-12);
  EXPECT_NEAR(r.eval.map_at.at(2), 0.5 / 3, 1e-12);
  EXPECT_NEAR(r.eval.mrr, (1.0 / 3 + 1.0 / 2 + 1.0 / 4) / 3, 1e-12);
  EXPECT_DOUBLE_EQ(r.eval.topk_accuracy, 0.25);  // ranks 2, 3, 1, 3
  EXPECT_NEAR(r.eval.auc, 2.5 / 3, 1e-12);
  EXPECT_EQ(r.eval.auc_positives, 3);

  c.exclude_seen = true;
  r = evaluate_popularity(c, d);
  EXPECT_TRUE(r.eval.exclude_seen);
  EXPECT_NEAR(r.eval.recall_at.at(1), (0.5 + 1 + 0) / 3, 1e-12);
  EXPECT_NEAR(r.eval.ndcg_at.at(1), 2.0 / 3, 1e-12);
  EXPECT_NEAR(r.eval.map_at.at(1), 2.0 / 3, 1e-12);
  EXPECT_NEAR(r.eval.recall_at.at(2), 1.0, 1e-12);
  EXPECT_NEAR(r.eval.ndcg_at.at(2), (2 + 1 / std::log2(3.0)) / 3, 1e-12);
  EXPECT_NEAR(r.eval.map_at.at(2), 2.5 / 3, 1e-12);
  EXPECT_NEAR(r.eval.mrr, 2.5 / 3, 1e-12);
  EXPECT_DOUBLE_EQ(r.eval.topk_accuracy, 1.0);  // ranks 0, 1, 0, 1
  EXPECT_DOUBLE_EQ(r.eval.accuracy_at.at(1), 0.5);
  EXPECT_NEAR(r.eval.auc, 2.5 / 3, 1e-12);  // AUC does not depend on the candidates
}

TEST(SeenItems, FromTrainingExamples) {
  const SeenItems s = seen_items_from(examples({2, 0, 2, 2}, {4, 1, 3, 4}), 4);
  EXPECT_EQ(s.offsets, (std::vector<int64_t>{0, 1, 1, 3, 3}));
  EXPECT_EQ(s.items, (std::vector<int32_t>{1, 3, 4}));
  EXPECT_THROW(seen_items_from(examples({4}, {0}), 4), Error);
}

// The JSON form keeps the new fields (NaN as null) and reads results written
// before them.
TEST(EvalResultJson, RoundTripAndOldResults) {
  EvalResult r;
  r.k = 10;
  r.topk_accuracy = 0.25;
  r.accuracy_at = {{10, 0.25}};
  r.rmse = 1.5;
  r.exclude_seen = true;
  r.recall_at = {{10, 0.1}, {100, 0.4}};
  r.ndcg_at = {{10, 0.05}, {100, 0.2}};
  r.map_at = {{10, 0.02}, {100, 0.03}};
  r.mrr = 0.3;
  r.ranking_users = 7;
  r.auc_threshold = 4;
  r.auc_positives = 3;
  const nlohmann::json j = r.to_json();
  EXPECT_TRUE(j.at("auc").is_null());
  const EvalResult back = EvalResult::from_json(nlohmann::json::parse(j.dump()));
  EXPECT_EQ(back.to_json().dump(), j.dump());
  EXPECT_EQ(back.recall_at, r.recall_at);
  EXPECT_TRUE(std::isnan(back.auc));

  const auto old = nlohmann::json::parse(R"({"k":10,"topk_accuracy":0.2,"accuracy_at":{"10":0.2},"rmse":1.0})");
  const EvalResult o = EvalResult::from_json(old);
  EXPECT_TRUE(o.recall_at.empty());
  EXPECT_TRUE(std::isnan(o.mrr));
  EXPECT_FALSE(o.exclude_seen);
  EXPECT_EQ(ranking_summary(o), "");
  EXPECT_THROW(EvalResult::from_json(nlohmann::json::parse(
                   R"({"k":10,"topk_accuracy":0.2,"accuracy_at":{},"rmse":1.0,"recall_at":{"x":1}})")),
               Error);
}

// The printed forms: one line, and a table with a column per metric and K.
TEST(EvalSummary, LineAndTable) {
  EvalResult r;
  r.recall_at = {{10, 0.5}};
  r.ndcg_at = {{10, 0.25}};
  r.map_at = {{10, 0.125}};
  r.mrr = 0.75;
  r.ranking_users = 4;
  r.auc = 0.625;
  r.auc_threshold = 4;
  r.auc_positives = 2;
  r.auc_negatives = 1;
  EXPECT_EQ(ranking_summary(r),
            "recall@10 0.5000, NDCG@10 0.2500, MAP@10 0.1250, MRR 0.7500 over 4 users (seen items "
            "kept); AUC 0.6250 (rating >= 4: 2 positive, 1 negative pairs)");
  const std::string t = ranking_table({{"a", r}, {"old", EvalResult{}}});
  EXPECT_EQ(t,
            "| Model | Recall@10 | NDCG@10 | MAP@10 |    MRR |    AUC |\n"
            "|-------|-----------|---------|--------|--------|--------|\n"
            "| a     |    0.5000 |  0.2500 | 0.1250 | 0.7500 | 0.6250 |\n"
            "| old   |         - |       - |      - |      - |      - |\n");
}

}  // namespace
}  // namespace tandem
