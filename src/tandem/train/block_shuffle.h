// The order in which training streams a store's examples without holding a
// permutation of all of them: the rows are cut into blocks of `block_rows`
// consecutive examples; an epoch visits the blocks in a shuffled order, and
// groups of `window_blocks` consecutive (shuffled) blocks form a window
// whose examples are shuffled among themselves. So every example is visited
// exactly once per epoch, memory is one window (block_rows * window_blocks
// examples), and any position of the epoch maps to its example from the
// seed alone (a resumed run needs no saved order).
//
// Unshuffled, the order is the rows' own: position p is row p (the same
// order in-memory training uses with shuffle "none").
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace tandem {

class BlockShuffle {
 public:
  BlockShuffle(int64_t rows, int64_t block_rows, int64_t window_blocks);

  // Sets the epoch's order: shuffled with `seed`, or the rows' own order.
  void set_epoch(bool shuffled, uint64_t seed);

  int64_t rows() const { return rows_; }
  int64_t windows() const { return static_cast<int64_t>(window_start_.size()) - 1; }
  // Epoch positions [window_start(w), window_start(w + 1)) are window w's.
  int64_t window_start(int64_t w) const { return window_start_[static_cast<size_t>(w)]; }
  int64_t window_rows(int64_t w) const { return window_start(w + 1) - window_start(w); }
  int64_t window_of(int64_t position) const;
  // The row ranges (first row, count) window w reads, in its blocks' order.
  std::vector<std::pair<int64_t, int64_t>> window_ranges(int64_t w) const;
  // Window w's shuffle: position window_start(w) + i holds the window's
  // perm[i]-th row (counting through window_ranges(w)).
  void window_permutation(int64_t w, std::vector<uint32_t>& perm) const;
  // The row at every position of the epoch (for tests; O(rows) memory).
  std::vector<int64_t> epoch_rows() const;

 private:
  int64_t rows_, block_rows_, window_blocks_;
  bool shuffled_ = false;
  uint64_t seed_ = 0;
  std::vector<int64_t> blocks_;        // the epoch's block order
  std::vector<int64_t> window_start_;  // windows() + 1 positions
};

}  // namespace tandem
