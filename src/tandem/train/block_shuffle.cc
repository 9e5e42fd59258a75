#include "tandem/train/block_shuffle.h"

#include <algorithm>
#include <numeric>

#include "tandem/core/error.h"
#include "tandem/core/random.h"

namespace tandem {

BlockShuffle::BlockShuffle(int64_t rows, int64_t block_rows, int64_t window_blocks)
    : rows_(rows), block_rows_(block_rows), window_blocks_(window_blocks) {
  TANDEM_CHECK(rows >= 0, "block shuffle over " << rows << " rows");
  TANDEM_CHECK(block_rows > 0 && window_blocks > 0,
               "block shuffle needs positive block rows and window blocks, got " << block_rows << " and "
                                                                                << window_blocks);
  TANDEM_CHECK(block_rows * window_blocks <= (int64_t{1} << 32),
               "a shuffle window of " << block_rows * window_blocks << " rows is too large");
  set_epoch(false, 0);
}

void BlockShuffle::set_epoch(bool shuffled, uint64_t seed) {
  shuffled_ = shuffled;
  seed_ = seed;
  const int64_t blocks = (rows_ + block_rows_ - 1) / block_rows_;
  blocks_.resize(static_cast<size_t>(blocks));
  std::iota(blocks_.begin(), blocks_.end(), int64_t{0});
  if (shuffled) {
    Rng rng(derive_seed(seed, 0));
    shuffle(blocks_, rng);
  }
  window_start_.assign(1, 0);
  int64_t pos = 0;
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t first = blocks_[static_cast<size_t>(b)] * block_rows_;
    pos += std::min(block_rows_, rows_ - first);
    if ((b + 1) % window_blocks_ == 0 || b + 1 == blocks) window_start_.push_back(pos);
  }
}

int64_t BlockShuffle::window_of(int64_t position) const {
  TANDEM_CHECK(position >= 0 && position < rows_, "position " << position << " outside an epoch of " << rows_);
  const auto it = std::upper_bound(window_start_.begin(), window_start_.end(), position);
  return static_cast<int64_t>(it - window_start_.begin()) - 1;
}

std::vector<std::pair<int64_t, int64_t>> BlockShuffle::window_ranges(int64_t w) const {
  std::vector<std::pair<int64_t, int64_t>> out;
  const int64_t b0 = w * window_blocks_;
  const int64_t b1 = std::min<int64_t>(b0 + window_blocks_, static_cast<int64_t>(blocks_.size()));
  for (int64_t b = b0; b < b1; ++b) {
    const int64_t first = blocks_[static_cast<size_t>(b)] * block_rows_;
    const int64_t count = std::min(block_rows_, rows_ - first);
    // Consecutive blocks in row order (the unshuffled epoch) read as one range.
    if (!out.empty() && out.back().first + out.back().second == first) {
      out.back().second += count;
    } else {
      out.emplace_back(first, count);
    }
  }
  return out;
}

void BlockShuffle::window_permutation(int64_t w, std::vector<uint32_t>& perm) const {
  perm.resize(static_cast<size_t>(window_rows(w)));
  std::iota(perm.begin(), perm.end(), 0u);
  if (!shuffled_) return;
  Rng rng(derive_seed(seed_, static_cast<uint64_t>(w) + 1));
  shuffle(perm, rng);
}

std::vector<int64_t> BlockShuffle::epoch_rows() const {
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(rows_));
  std::vector<uint32_t> perm;
  for (int64_t w = 0; w < windows(); ++w) {
    std::vector<int64_t> window;
    for (const auto& [first, count] : window_ranges(w))
      for (int64_t r = first; r < first + count; ++r) window.push_back(r);
    window_permutation(w, perm);
    for (uint32_t i : perm) out.push_back(window[i]);
  }
  return out;
}

}  // namespace tandem
