#include "tandem/evaluate/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "tandem/core/error.h"

namespace tandem {
namespace {

TEST(Rmse, HandComputed) {
  // Errors 0, -1, -2 -> squared 0, 1, 4 -> mean 5/3.
  EXPECT_DOUBLE_EQ(rmse({1, 2, 3}, {1, 3, 5}), std::sqrt(5.0 / 3.0));
  EXPECT_DOUBLE_EQ(rmse({2.5f}, {2.5f}), 0.0);
  EXPECT_DOUBLE_EQ(rmse({0, 0}, {3, -4}), std::sqrt(12.5));
}

TEST(Rmse, Weighted) {
  // Squared errors 0, 1, 4 with weights 1, 2, 1: (0 + 2 + 4) / 4 = 1.5.
  std::vector<float> w{1, 2, 1};
  EXPECT_DOUBLE_EQ(rmse({1, 2, 3}, {1, 3, 5}, &w), std::sqrt(1.5));
  // A zero weight removes its term: (1*1 + 0*4) / 1.
  std::vector<float> w2{0, 1, 0};
  EXPECT_DOUBLE_EQ(rmse({1, 2, 3}, {1, 3, 5}, &w2), 1.0);
  // Uniform weights give the unweighted value.
  std::vector<float> w3{0.5f, 0.5f, 0.5f};
  EXPECT_DOUBLE_EQ(rmse({1, 2, 3}, {1, 3, 5}, &w3), std::sqrt(5.0 / 3.0));
}

TEST(Rmse, AccumulatesInDouble) {
  // 2^25 + 1 ones: a float sum would stall at 2^24 and give a mean of 0.5.
  const size_t n = (size_t{1} << 25) + 1;
  std::vector<float> p(n, 1.0f), l(n, 0.0f);
  EXPECT_DOUBLE_EQ(rmse(p, l), 1.0);
}

TEST(Rmse, NaNPropagates) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(rmse({1, nan}, {1, 2})));
}

TEST(Rmse, Errors) {
  EXPECT_THROW(rmse({}, {}), Error);
  EXPECT_THROW(rmse({1, 2}, {1}), Error);
  std::vector<float> short_w{1};
  EXPECT_THROW(rmse({1, 2}, {1, 2}, &short_w), Error);
  std::vector<float> zero_w{0, 0};
  EXPECT_THROW(rmse({1, 2}, {1, 2}, &zero_w), Error);
  std::vector<float> neg_w{1, -1};
  EXPECT_THROW(rmse({1, 2}, {1, 2}, &neg_w), Error);
  std::vector<float> nan_w{1, std::numeric_limits<float>::quiet_NaN()};
  EXPECT_THROW(rmse({1, 2}, {1, 2}, &nan_w), Error);
}

TEST(TopkAccuracy, HandComputed) {
  std::vector<int64_t> ranks{0, 3, 9, 10, 100};
  EXPECT_DOUBLE_EQ(topk_accuracy(ranks, 1), 1.0 / 5.0);
  EXPECT_DOUBLE_EQ(topk_accuracy(ranks, 10), 3.0 / 5.0);  // rank 10 is not < 10
  EXPECT_DOUBLE_EQ(topk_accuracy(ranks, 11), 4.0 / 5.0);
  EXPECT_DOUBLE_EQ(topk_accuracy(ranks, 1000), 1.0);
}

TEST(TopkAccuracy, Weighted) {
  std::vector<int64_t> ranks{0, 3, 9, 10};
  std::vector<float> w{1, 2, 3, 4};
  // k=5: hits ranks 0 and 3 -> (1 + 2) / 10.
  EXPECT_DOUBLE_EQ(topk_accuracy(ranks, 5, &w), 0.3);
  // k=10: hits 0, 3, 9 -> 6 / 10.
  EXPECT_DOUBLE_EQ(topk_accuracy(ranks, 10, &w), 0.6);
  std::vector<float> zero{0, 0, 0, 0};
  EXPECT_EQ(topk_accuracy(ranks, 5, &zero), 0.0);
}

TEST(TopkAccuracy, EmptyIsZero) { EXPECT_EQ(topk_accuracy({}, 5), 0.0); }

TEST(TopkAccuracy, Errors) {
  std::vector<int64_t> ranks{0, 1};
  EXPECT_THROW(topk_accuracy(ranks, 0), Error);
  EXPECT_THROW(topk_accuracy(ranks, -1), Error);
  std::vector<float> w{1};
  EXPECT_THROW(topk_accuracy(ranks, 1, &w), Error);
  std::vector<float> neg{1, -2};
  EXPECT_THROW(topk_accuracy(ranks, 1, &neg), Error);
  EXPECT_THROW(topk_accuracy({0, -1}, 1), Error);
}

// Four predictions by hand: logits 2, -1, 0, 0.5 against labels 1, 0, 0, 0.
//   log loss: softplus(2) - 2 = log(1 + e^-2); softplus(-1) = log(1 + e^-1);
//             softplus(0) = log 2; softplus(0.5) = log(1 + e^0.5); mean of the four
//   accuracy: z >= 0 predicts 1: right, right, wrong (0 -> 1), wrong -> 1/2
//   AUC: the positive (2) outscores all three negatives -> 1
//   positive rate 1/4
TEST(BinaryMetrics, HandComputed) {
  const BinaryMetrics m = binary_metrics({2.0f, -1.0f, 0.0f, 0.5f}, {1, 0, 0, 0});
  const double expected = (std::log1p(std::exp(-2.0)) + std::log1p(std::exp(-1.0)) + std::log(2.0) +
                           std::log1p(std::exp(0.5))) / 4.0;
  EXPECT_NEAR(m.log_loss, expected, 1e-12);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.5);
  EXPECT_DOUBLE_EQ(m.auc, 1.0);
  EXPECT_DOUBLE_EQ(m.positive_rate, 0.25);
  EXPECT_EQ(m.count, 4);
  // A tie between a positive and a negative counts one half: AUC (1 + 0.5) / 2.
  const BinaryMetrics t = binary_metrics({1.0f, 1.0f, 0.0f}, {1, 0, 0});
  EXPECT_DOUBLE_EQ(t.auc, 0.75);
  // One class only: no AUC; large logits stay finite.
  const BinaryMetrics one = binary_metrics({100.0f, -100.0f}, {1, 1});
  EXPECT_TRUE(std::isnan(one.auc));
  EXPECT_NEAR(one.log_loss, 50.0, 1e-9);
}

TEST(BinaryMetrics, Errors) {
  EXPECT_THROW(binary_metrics({}, {}), Error);
  EXPECT_THROW(binary_metrics({1.0f}, {1, 0}), Error);
  EXPECT_THROW(binary_metrics({1.0f}, {2}), Error);
}

}  // namespace
}  // namespace tandem
