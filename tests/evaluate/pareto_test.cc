// The Pareto front of top-K accuracy (higher better) against RMSE (lower
// better), and the balanced choice on it, on hand-computed cases.
#include <gtest/gtest.h>

#include <cmath>

#include "tandem/evaluate/pareto.h"

namespace tandem {
namespace {

using Points = std::vector<TradeOffPoint>;

TEST(Pareto, DominationNeedsNoWorseOnBothAndBetterOnOne) {
  EXPECT_TRUE(dominates({0.02, 0.25}, {0.01, 0.30}));  // better on both
  EXPECT_TRUE(dominates({0.02, 0.25}, {0.01, 0.25}));  // same RMSE, more accurate
  EXPECT_TRUE(dominates({0.02, 0.25}, {0.02, 0.30}));  // same accuracy, lower RMSE
  EXPECT_FALSE(dominates({0.02, 0.25}, {0.02, 0.25}));  // equal: neither
  EXPECT_FALSE(dominates({0.02, 0.30}, {0.01, 0.25}));  // a trade-off: neither
  EXPECT_FALSE(dominates({0.01, 0.25}, {0.02, 0.30}));
  EXPECT_FALSE(dominates({NAN, 0.1}, {0.01, 0.25}));
  EXPECT_FALSE(dominates({0.02, 0.25}, {0.01, NAN}));
}

TEST(Pareto, FrontOfASweepLikeSet) {
  // Retrieval-only (accurate, bad RMSE), joint (nearly as accurate, best
  // RMSE), rating-only (worse on both than joint), and a pair tying joint's
  // RMSE with lower accuracy.
  const Points p = {{0.020, 0.90}, {0.018, 0.25}, {0.006, 0.27}, {0.010, 0.25}};
  EXPECT_EQ(pareto_front(p), (std::vector<bool>{true, true, false, false}));
  EXPECT_EQ(front_order(p), (std::vector<size_t>{1, 0}));  // by RMSE ascending
}

TEST(Pareto, TiesOnOneMetricGoToTheBetterOther) {
  // Equal accuracy: the lower RMSE wins. Equal RMSE: the higher accuracy wins.
  EXPECT_EQ(pareto_front({{0.5, 0.3}, {0.5, 0.2}}), (std::vector<bool>{false, true}));
  EXPECT_EQ(pareto_front({{0.4, 0.2}, {0.5, 0.2}}), (std::vector<bool>{false, true}));
  // Three points on a vertical line and one beside: only the top one and the
  // trade-off survive.
  const Points p = {{0.1, 0.5}, {0.3, 0.5}, {0.2, 0.5}, {0.05, 0.4}};
  EXPECT_EQ(pareto_front(p), (std::vector<bool>{false, true, false, true}));
  EXPECT_EQ(front_order(p), (std::vector<size_t>{3, 1}));
}

TEST(Pareto, DuplicatesShareTheirFate) {
  // Two copies of a front point are both on the front (neither dominates the
  // other); two copies of a dominated point are both dominated.
  const Points p = {{0.3, 0.2}, {0.1, 0.5}, {0.3, 0.2}, {0.1, 0.5}, {0.4, 0.6}};
  EXPECT_EQ(pareto_front(p), (std::vector<bool>{true, false, true, false, true}));
  // Equal points keep their input order along the front.
  EXPECT_EQ(front_order(p), (std::vector<size_t>{0, 2, 4}));
  // All equal: all on the front.
  EXPECT_EQ(pareto_front({{0.2, 0.2}, {0.2, 0.2}, {0.2, 0.2}}), (std::vector<bool>(3, true)));
}

TEST(Pareto, EdgeCases) {
  EXPECT_TRUE(pareto_front({}).empty());
  EXPECT_EQ(pareto_front({{0.0, 0.0}}), (std::vector<bool>{true}));
  // A NaN metric is never on the front and does not hide the others.
  const Points p = {{NAN, 0.1}, {0.2, 0.3}, {0.1, INFINITY}};
  EXPECT_EQ(pareto_front(p), (std::vector<bool>{false, true, false}));
  EXPECT_FALSE(balanced_choice({{NAN, NAN}}).has_value());
  EXPECT_FALSE(balanced_choice({}).has_value());
}

TEST(Pareto, BalancedChoiceIsClosestToTheIdealCorner) {
  // Accuracy spans [0.006, 0.020] and RMSE [0.24, 0.90]. Scaled distances
  // to (best accuracy, best RMSE):
  //   p0: (0, 1) -> 1;  p1: (0.002/0.014, 0.01/0.66) -> 0.1437;  p2: (1, 0) -> 1.
  const Points p = {{0.020, 0.90}, {0.018, 0.25}, {0.006, 0.24}};
  EXPECT_EQ(pareto_front(p), (std::vector<bool>(3, true)));
  EXPECT_EQ(balanced_choice(p), 1u);
  // Scaled distances: p0 1, p1 (0.4, 0.4) -> 0.566, p2 (dominated by p1)
  // 0.707, p3 1.
  const Points q = {{1.0, 1.0}, {0.6, 0.4}, {0.5, 0.5}, {0.0, 0.0}};
  EXPECT_EQ(pareto_front(q), (std::vector<bool>{true, true, false, true}));
  EXPECT_EQ(balanced_choice(q), 1u);
  // Equally distant front points: the earlier one. p0 at (0, 1), p1 at (1, 0).
  EXPECT_EQ(balanced_choice({{1.0, 1.0}, {0.0, 0.0}}), 0u);
  // A metric that does not vary decides nothing: the most accurate wins.
  EXPECT_EQ(balanced_choice({{0.1, 0.5}, {0.3, 0.5}, {0.2, 0.5}}), 1u);
}

TEST(Pareto, ExtraTaskMetricsAreFurtherObjectives) {
  // p1 loses to p0 on accuracy and RMSE, but its extra task's AUC (0.80
  // against 0.70) keeps it on the front; p2 is worse than p0 on all three.
  const Points p = {{0.30, 0.25, {0.70}}, {0.20, 0.30, {0.80}}, {0.25, 0.26, {0.65}}};
  EXPECT_EQ(pareto_front(p), (std::vector<bool>{true, true, false}));
  EXPECT_TRUE(dominates(p[0], p[2]));
  EXPECT_FALSE(dominates(p[0], p[1]));
  // A NaN AUC takes a point off the front, as a NaN RMSE does.
  const Points q = {{0.30, 0.25, {NAN}}, {0.20, 0.30, {0.80}}};
  EXPECT_EQ(pareto_front(q), (std::vector<bool>{false, true}));
  // Balanced over three metrics, ranges acc [0.2, 0.3], RMSE [0.25, 0.30],
  // AUC [0.65, 0.80]: p0 (0, 0, 0.10/0.15) -> 0.667, p1 (1, 1, 0) -> 1.414.
  EXPECT_EQ(balanced_choice(p), 0u);
  // Two extra tasks: p1 best on both AUCs, p0 on the rest; p0 (0, 0, 1, 1)
  // -> 1.414, p1 (1, 1, 0, 0) -> 1.414: a tie, the earlier; with p1's
  // accuracy raised to p0's, p1 (0, 1, 0, 0) -> 1 wins.
  const Points r = {{0.3, 0.2, {0.6, 0.6}}, {0.2, 0.3, {0.8, 0.9}}};
  EXPECT_EQ(balanced_choice(r), 0u);
  const Points t = {{0.3, 0.2, {0.6, 0.6}}, {0.3, 0.3, {0.8, 0.9}}};
  EXPECT_EQ(balanced_choice(t), 1u);
}

}  // namespace
}  // namespace tandem
