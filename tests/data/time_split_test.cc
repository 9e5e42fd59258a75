#include "tandem/data/time_split.h"

#include <gtest/gtest.h>

#include <cmath>

#include "data/test_util.h"
#include "tandem/core/error.h"

namespace tandem {
namespace {

using testing::error_of;
using Rows = std::vector<uint32_t>;

TEST(SplitStrategy, NamesRoundTrip) {
  for (const auto s : {SplitStrategy::kRandom, SplitStrategy::kLeaveLastOut, SplitStrategy::kTime})
    EXPECT_EQ(parse_split_strategy(to_string(s)), s);
  EXPECT_CONTAINS(error_of([] { parse_split_strategy("latest"); }), "random, leave-last-out, time");
}

TEST(LeaveLastOut, LatestPerUserTestsSingletonsStayInTrain) {
  //                 row: 0    1    2    3    4    5    6
  const std::vector<int64_t> users = {1, 2, 1, 3, 2, 1, 2};
  const std::vector<int64_t> times = {50, 10, 70, 5, 30, 60, 20};
  // user 1: rows 0 (50), 2 (70), 5 (60) -> row 2 tests
  // user 2: rows 1 (10), 4 (30), 6 (20) -> row 4 tests
  // user 3: row 3 only -> stays in train
  const SplitIndices s = leave_last_out_split(users, times);
  EXPECT_EQ(s.test, (Rows{2, 4}));
  EXPECT_EQ(s.train, (Rows{0, 1, 3, 5, 6}));
}

TEST(LeaveLastOut, TiesGoToTheLastRowInFileOrder) {
  const std::vector<int64_t> users = {7, 7, 7, 8, 8};
  const std::vector<int64_t> times = {100, 100, 90, 5, 5};
  const SplitIndices s = leave_last_out_split(users, times);
  EXPECT_EQ(s.test, (Rows{1, 4}));
  EXPECT_EQ(s.train, (Rows{0, 2, 3}));
}

TEST(LeaveLastOut, RejectsColumnsOfDifferentLengths) {
  EXPECT_CONTAINS(error_of([] { leave_last_out_split({1, 2}, {1}); }), "2 users but 1 timestamps");
}

TEST(TimeSplit, EarliestFractionTrainsTiesKeepFileOrder) {
  //                 row: 0   1   2   3   4   5   6   7   8   9
  const std::vector<int64_t> times = {40, 10, 90, 20, 20, 70, 30, 80, 20, 60};
  // Sorted stably: 10(1) 20(3) 20(4) 20(8) 30(6) 40(0) 60(9) 70(5) 80(7) 90(2).
  const SplitIndices half = time_fraction_split(times, 0.5);
  EXPECT_EQ(half.train, (Rows{1, 3, 4, 6, 8}));
  EXPECT_EQ(half.test, (Rows{0, 2, 5, 7, 9}));
  // A cut inside a run of equal timestamps: the earlier rows of the run train.
  const SplitIndices cut = time_fraction_split(times, 0.3);
  EXPECT_EQ(cut.train, (Rows{1, 3, 4}));
  EXPECT_EQ(cut.test, (Rows{0, 2, 5, 6, 7, 8, 9}));
  const SplitIndices all = time_fraction_split(times, 1.0);
  EXPECT_EQ(all.train.size(), 10u);
  EXPECT_TRUE(all.test.empty());
}

TEST(TimeSplit, FractionRoundsToNearestCount) {
  const std::vector<int64_t> times = {1, 2, 3};
  EXPECT_EQ(time_fraction_split(times, 0.8).train, (Rows{0, 1}));  // 2.4 -> 2
  EXPECT_EQ(time_fraction_split(times, 0.9).train, (Rows{0, 1, 2}));  // 2.7 -> 3
}

TEST(TimeSplit, RejectsFractionsOutsideUnitInterval) {
  for (double f : {0.0, -0.5, 1.5, std::nan("")})
    EXPECT_CONTAINS(error_of([&] { time_fraction_split({1, 2}, f); }), "must be in (0, 1]");
}

TEST(TimeSplit, CutAtATimestamp) {
  const std::vector<int64_t> times = {40, 10, 90, 20, 60};
  const SplitIndices s = time_cut_split(times, 40);
  EXPECT_EQ(s.train, (Rows{1, 3}));
  EXPECT_EQ(s.test, (Rows{0, 2, 4}));  // 40 itself is not before the cut
}

}  // namespace
}  // namespace tandem
