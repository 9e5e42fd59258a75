// The streaming order: every example exactly once per epoch, deterministic
// for a seed, the rows' own order unshuffled, windows as documented.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "tandem/core/error.h"
#include "tandem/train/block_shuffle.h"

namespace tandem {
namespace {

std::vector<int64_t> iota_rows(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), int64_t{0});
  return v;
}

TEST(BlockShuffle, VisitsEveryRowExactlyOncePerEpoch) {
  for (int64_t rows : {0, 1, 7, 100, 1001}) {
    for (int64_t block : {1, 3, 64, 2000}) {
      for (int64_t window : {1, 2, 5}) {
        BlockShuffle b(rows, block, window);
        b.set_epoch(true, 17);
        auto order = b.epoch_rows();
        ASSERT_EQ(static_cast<int64_t>(order.size()), rows);
        std::sort(order.begin(), order.end());
        EXPECT_EQ(order, iota_rows(rows)) << rows << " rows, block " << block << ", window " << window;
      }
    }
  }
}

TEST(BlockShuffle, UnshuffledIsTheRowsOrder) {
  BlockShuffle b(1001, 64, 3);
  b.set_epoch(false, 17);
  EXPECT_EQ(b.epoch_rows(), iota_rows(1001));
  // One read per window: its blocks are consecutive.
  EXPECT_EQ(b.window_ranges(0), (std::vector<std::pair<int64_t, int64_t>>{{0, 192}}));
  EXPECT_EQ(b.window_ranges(b.windows() - 1), (std::vector<std::pair<int64_t, int64_t>>{{960, 41}}));
}

TEST(BlockShuffle, DeterministicForASeedAndDifferentAcrossSeeds) {
  BlockShuffle a(1000, 16, 4), b(1000, 16, 4);
  a.set_epoch(true, 5);
  b.set_epoch(true, 5);
  EXPECT_EQ(a.epoch_rows(), b.epoch_rows());
  b.set_epoch(true, 6);
  EXPECT_NE(a.epoch_rows(), b.epoch_rows());
  EXPECT_NE(a.epoch_rows(), iota_rows(1000));
}

TEST(BlockShuffle, WindowsHoldTheirBlocksRowsOnly) {
  // block 10, window 3: each window is 30 rows of three whole blocks (the
  // last block, 7 rows, where it falls), and its positions are a shuffle of
  // exactly those rows.
  BlockShuffle b(97, 10, 3);
  b.set_epoch(true, 3);
  const auto order = b.epoch_rows();
  EXPECT_EQ(b.windows(), 4);
  int64_t total = 0;
  for (int64_t w = 0; w < b.windows(); ++w) {
    std::vector<int64_t> expected;
    for (const auto& [first, count] : b.window_ranges(w)) {
      EXPECT_EQ(first % 10, 0);
      for (int64_t r = first; r < first + count; ++r) expected.push_back(r);
    }
    std::vector<int64_t> got(order.begin() + b.window_start(w), order.begin() + b.window_start(w + 1));
    std::sort(got.begin(), got.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(got, expected) << "window " << w;
    EXPECT_EQ(b.window_of(b.window_start(w)), w);
    EXPECT_EQ(b.window_of(b.window_start(w + 1) - 1), w);
    total += b.window_rows(w);
  }
  EXPECT_EQ(total, 97);
}

TEST(BlockShuffle, RejectsBadShapes) {
  EXPECT_THROW(BlockShuffle(10, 0, 1), Error);
  EXPECT_THROW(BlockShuffle(10, 1, 0), Error);
  BlockShuffle b(10, 3, 1);
  EXPECT_THROW(b.window_of(10), Error);
  EXPECT_THROW(b.window_of(-1), Error);
}

}  // namespace
}  // namespace tandem
