#include "tandem/data/split.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "data/test_util.h"
#include "tandem/core/error.h"
#include "tandem/core/random.h"

namespace tandem {
namespace {

using testing::error_of;

TEST(RandomSplit, SizesAndDisjointness) {
  const SplitIndices s = random_split(1000, 42, 800, 150);
  ASSERT_EQ(s.train.size(), 800u);
  ASSERT_EQ(s.test.size(), 150u);
  std::set<uint32_t> all(s.train.begin(), s.train.end());
  EXPECT_EQ(all.size(), 800u);  // no repeats within train
  all.insert(s.test.begin(), s.test.end());
  EXPECT_EQ(all.size(), 950u);  // and none shared with test
  EXPECT_LT(*all.rbegin(), 1000u);
}

TEST(RandomSplit, FullSplitIsAPermutation) {
  const SplitIndices s = random_split(100, 7, 80, 20);
  std::vector<uint32_t> all = s.train;
  all.insert(all.end(), s.test.begin(), s.test.end());
  std::sort(all.begin(), all.end());
  std::vector<uint32_t> expected(100);
  std::iota(expected.begin(), expected.end(), 0u);
  EXPECT_EQ(all, expected);
}

TEST(RandomSplit, SameSeedSameSplit) {
  const SplitIndices a = random_split(500, 123, 400, 100);
  const SplitIndices b = random_split(500, 123, 400, 100);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.test, b.test);
}

TEST(RandomSplit, DifferentSeedDifferentSplit) {
  const SplitIndices a = random_split(500, 1, 400, 100);
  const SplitIndices b = random_split(500, 2, 400, 100);
  EXPECT_NE(a.train, b.train);
  EXPECT_NE(a.test, b.test);
}

TEST(RandomSplit, ActuallyShuffles) {
  const SplitIndices s = random_split(500, 9, 500, 0);
  std::vector<uint32_t> identity(500);
  std::iota(identity.begin(), identity.end(), 0u);
  EXPECT_NE(s.train, identity);
}

TEST(RandomSplit, SmallerCountsArePrefixesOfTheSameShuffle) {
  // take()/skip() semantics: the test set follows the train set in one order.
  const SplitIndices full = random_split(200, 5, 150, 50);
  const SplitIndices part = random_split(200, 5, 100, 30);
  EXPECT_TRUE(std::equal(part.train.begin(), part.train.end(), full.train.begin()));
  EXPECT_TRUE(std::equal(part.test.begin(), part.test.end(), full.train.begin() + 100));
}

TEST(RandomSplit, MatchesTandemShuffle) {
  std::vector<uint32_t> order(50);
  std::iota(order.begin(), order.end(), 0u);
  Rng rng(77);
  shuffle(order, rng);
  const SplitIndices s = random_split(50, 77, 40, 10);
  EXPECT_TRUE(std::equal(s.train.begin(), s.train.end(), order.begin()));
  EXPECT_TRUE(std::equal(s.test.begin(), s.test.end(), order.begin() + 40));
}

TEST(RandomSplit, EdgeSizes) {
  EXPECT_TRUE(random_split(0, 1, 0, 0).train.empty());
  const SplitIndices s = random_split(10, 1, 0, 10);
  EXPECT_TRUE(s.train.empty());
  EXPECT_EQ(s.test.size(), 10u);
}

TEST(RandomSplit, TooManyRequested) {
  const std::string msg = error_of([] { random_split(100, 1, 80, 21); });
  EXPECT_CONTAINS(msg, "80");
  EXPECT_CONTAINS(msg, "21");
  EXPECT_CONTAINS(msg, "100");
  EXPECT_THROW(random_split(100, 1, 101, 0), Error);
  // Would wrap around if the counts were simply added.
  EXPECT_THROW(random_split(100, 1, 50, SIZE_MAX), Error);
}

TEST(RandomSplit, TooManyRatings) {
  EXPECT_THROW(random_split(size_t{UINT32_MAX} + 1, 1, 0, 0), Error);
}

}  // namespace
}  // namespace tandem
