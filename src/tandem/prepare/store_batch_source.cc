#include "tandem/prepare/store_batch_source.h"

#include <algorithm>
#include <cstring>

#include "tandem/core/error.h"
#include "tandem/core/random.h"
#include "tandem/train/trainer.h"

namespace tandem {

int64_t stream_buffer_bytes(const StreamShape& shape, bool timestamps, bool weights) {
  const int64_t per_row = 4 + 4 + 4 + (timestamps ? 8 : 0) + (weights ? 4 : 0);
  // Current window, the next, the next's unshuffled rows, its permutation.
  return shape.window_rows() * (3 * per_row + 4);
}

namespace {
// A window's examples must name rows of the store's tables (a damaged store
// must not index outside them).
void check_window_rows(const PreparedStore& store, const std::vector<int32_t>& users,
                       const std::vector<int32_t>& items) {
  const int64_t user_rows = store.users.rows(), item_rows = store.items.rows();
  for (size_t i = 0; i < users.size(); ++i)
    TANDEM_CHECK(users[i] >= 0 && users[i] < user_rows && items[i] >= 0 && items[i] < item_rows,
                 store.files.dir() << "/train.*: an example has rows (" << users[i] << ", " << items[i]
                                   << ") outside the tables (" << user_rows << " x " << item_rows << ")");
}
}  // namespace

StoreBatchSource::StoreBatchSource(const PreparedStore& store, const StreamShape& shape, int rank, int ranks)
    : store_(store),
      shape_(shape),
      order_(store.train.rows, shape.block_rows, shape.window_blocks),
      rank_(rank),
      ranks_(ranks) {
  TANDEM_CHECK(ranks >= 1 && rank >= 0 && rank < ranks, "rank " << rank << " of " << ranks);
  TANDEM_CHECK(store.train.rows >= ranks, store.train.rows << " training examples cannot be spread over " << ranks
                                                           << " ranks: each needs at least one");
}

namespace {
// Rows t in [0, x) with t mod ranks == rank.
int64_t owned_below(int64_t x, int rank, int ranks) { return x > rank ? (x - rank + ranks - 1) / ranks : 0; }
}  // namespace

StoreBatchSource::Window StoreBatchSource::load_part(const PreparedStore& store, const BlockShuffle& order,
                                                    int64_t epoch, int64_t w, int rank, int ranks) {
  const StoreSplit& split = store.train;
  // This rank's rows of each range, read a piece at a time (the pieces'
  // whole rows pass through a bounded buffer), in window-row order.
  const auto ranges = order.window_ranges(w);
  std::vector<int64_t> range_start;  // window-row offset of each range
  std::vector<int64_t> raw_start;    // index of its first owned row in raw
  Window raw;
  int64_t at = 0;
  constexpr int64_t kPiece = 65536;
  Window piece;
  for (const auto& [first, count] : ranges) {
    range_start.push_back(at);
    raw_start.push_back(static_cast<int64_t>(raw.users.size()));
    for (int64_t p = first; p < first + count; p += kPiece) {
      const int64_t m = std::min(kPiece, first + count - p);
      const auto z = static_cast<size_t>(m);
      piece.users.resize(z);
      piece.items.resize(z);
      piece.labels.resize(z);
      if (split.timestamps) piece.timestamps.resize(z);
      if (split.weights) piece.weights.resize(z);
      read_store_rows(store, split, p, m, piece.users.data(), piece.items.data(), piece.labels.data(),
                      split.timestamps ? piece.timestamps.data() : nullptr,
                      split.weights ? piece.weights.data() : nullptr);
      for (int64_t r = p + (rank - p % ranks + ranks) % ranks; r < p + m; r += ranks) {
        const auto i = static_cast<size_t>(r - p);
        raw.users.push_back(piece.users[i]);
        raw.items.push_back(piece.items[i]);
        raw.labels.push_back(piece.labels[i]);
        if (split.timestamps) raw.timestamps.push_back(piece.timestamps[i]);
        if (split.weights) raw.weights.push_back(piece.weights[i]);
      }
    }
    at += count;
  }
  check_window_rows(store, raw.users, raw.items);
  std::vector<uint32_t> perm;
  order.window_permutation(w, perm);
  Window out;
  out.epoch = epoch;
  out.index = w;
  const size_t mine = raw.users.size();
  out.users.reserve(mine);
  out.items.reserve(mine);
  out.labels.reserve(mine);
  out.positions.reserve(mine);
  for (size_t i = 0; i < perm.size(); ++i) {
    // Window row perm[i]: its range, its store row, whether it is ours.
    const auto j = static_cast<int64_t>(perm[i]);
    const size_t r = static_cast<size_t>(std::upper_bound(range_start.begin(), range_start.end(), j) -
                                         range_start.begin()) - 1;
    const int64_t row = ranges[r].first + (j - range_start[r]);
    if (row % ranks != rank) continue;
    const auto k = static_cast<size_t>(raw_start[r] + owned_below(row, rank, ranks) -
                                       owned_below(ranges[r].first, rank, ranks));
    out.users.push_back(raw.users[k]);
    out.items.push_back(raw.items[k]);
    out.labels.push_back(raw.labels[k]);
    if (split.timestamps) out.timestamps.push_back(raw.timestamps[k]);
    if (split.weights) out.weights.push_back(raw.weights[k]);
    out.positions.push_back(static_cast<uint32_t>(i));
  }
  return out;
}

StoreBatchSource::~StoreBatchSource() {
  if (next_.valid()) next_.wait();
}

StoreBatchSource::Window StoreBatchSource::load(const PreparedStore& store, const BlockShuffle& order,
                                                int64_t epoch, int64_t w) {
  const StoreSplit& split = store.train;
  const auto n = static_cast<size_t>(order.window_rows(w));
  Window raw;
  raw.users.resize(n);
  raw.items.resize(n);
  raw.labels.resize(n);
  if (split.timestamps) raw.timestamps.resize(n);
  if (split.weights) raw.weights.resize(n);
  size_t at = 0;
  for (const auto& [first, count] : order.window_ranges(w)) {
    read_store_rows(store, split, first, count, raw.users.data() + at, raw.items.data() + at,
                    raw.labels.data() + at, split.timestamps ? raw.timestamps.data() + at : nullptr,
                    split.weights ? raw.weights.data() + at : nullptr);
    at += static_cast<size_t>(count);
  }
  check_window_rows(store, raw.users, raw.items);
  std::vector<uint32_t> perm;
  order.window_permutation(w, perm);
  Window out;
  out.epoch = epoch;
  out.index = w;
  out.users.resize(n);
  out.items.resize(n);
  out.labels.resize(n);
  for (size_t i = 0; i < n; ++i) {
    out.users[i] = raw.users[perm[i]];
    out.items[i] = raw.items[perm[i]];
    out.labels[i] = raw.labels[perm[i]];
  }
  if (split.timestamps) {
    out.timestamps.resize(n);
    for (size_t i = 0; i < n; ++i) out.timestamps[i] = raw.timestamps[perm[i]];
  }
  if (split.weights) {
    out.weights.resize(n);
    for (size_t i = 0; i < n; ++i) out.weights[i] = raw.weights[perm[i]];
  }
  return out;
}

void StoreBatchSource::start_step(TrainerState& st, ShuffleMode mode) {
  TANDEM_CHECK(st.order.empty(),
               "the training state holds an in-memory example order (" << st.order.size()
                                                                       << " examples): it was not trained "
                                                                          "from a store");
  if (epoch_ == st.epochs_done) return;
  // A new epoch (or the first step after a restore): its order, and no
  // window of another epoch's order stays.
  if (next_.valid()) next_.wait();
  next_ = {};
  next_index_ = -1;
  current_ = Window{};
  const bool shuffled = mode != ShuffleMode::kNone;
  const uint64_t seed = mode == ShuffleMode::kEveryEpoch
                            ? derive_seed(st.shuffle_state, static_cast<uint64_t>(st.epochs_done))
                            : st.shuffle_state;
  order_.set_epoch(shuffled, seed);
  epoch_ = st.epochs_done;
}

const StoreBatchSource::Window& StoreBatchSource::window(int64_t epoch, int64_t w) {
  if (current_.epoch == epoch && current_.index == w) return current_;
  if (next_.valid() && next_index_ == w) {
    current_ = next_.get();
  } else {
    if (next_.valid()) next_.wait();
    next_ = {};
    current_ = ranks_ > 1 ? load_part(store_, order_, epoch, w, rank_, ranks_) : load(store_, order_, epoch, w);
  }
  ++windows_read_;
  next_index_ = -1;
  if (w + 1 < order_.windows()) {
    next_index_ = w + 1;
    if (ranks_ > 1) {
      next_ = std::async(std::launch::async, &StoreBatchSource::load_part, std::cref(store_), std::cref(order_),
                         epoch, w + 1, rank_, ranks_);
    } else {
      next_ = std::async(std::launch::async, &StoreBatchSource::load, std::cref(store_), std::cref(order_), epoch,
                         w + 1);
    }
  }
  return current_;
}

int64_t StoreBatchSource::gather_part(const TrainerState& st, int64_t first, int64_t count,
                                      const BatchBuffers& out) {
  if (ranks_ == 1) {
    gather(st, first, count, out);
    return count;
  }
  int64_t done = 0, m = 0;
  while (done < count) {
    const int64_t pos = first + done;
    const int64_t w = order_.window_of(pos);
    const Window& win = window(epoch_, w);
    const int64_t start = order_.window_start(w);
    const int64_t take = std::min(count - done, order_.window_start(w + 1) - pos);
    // This rank's examples among window positions [pos, pos + take).
    const auto lo = std::lower_bound(win.positions.begin(), win.positions.end(), static_cast<uint32_t>(pos - start));
    const auto hi = std::lower_bound(lo, win.positions.end(), static_cast<uint32_t>(pos - start + take));
    for (auto it = lo; it != hi; ++it, ++m) {
      const auto k = static_cast<size_t>(it - win.positions.begin());
      out.users[m] = win.users[k];
      out.items[m] = win.items[k];
      out.labels[m] = win.labels[k];
      if (has_timestamps()) out.timestamps[m] = win.timestamps[k];
      if (has_weights()) out.weights[m] = win.weights[k];
    }
    done += take;
  }
  return m;
}

void StoreBatchSource::gather(const TrainerState&, int64_t first, int64_t count, const BatchBuffers& out) {
  TANDEM_CHECK(ranks_ == 1, "rank " << rank_ << " of " << ranks_
                                    << " holds part of the store's examples: read it with gather_part");
  int64_t done = 0;
  while (done < count) {
    const int64_t pos = first + done;
    const int64_t w = order_.window_of(pos);
    const Window& win = window(epoch_, w);
    const auto at = static_cast<size_t>(pos - order_.window_start(w));
    const int64_t take = std::min(count - done, order_.window_start(w + 1) - pos);
    const auto z = static_cast<size_t>(take);
    std::memcpy(out.users + done, win.users.data() + at, z * 4);
    std::memcpy(out.items + done, win.items.data() + at, z * 4);
    std::memcpy(out.labels + done, win.labels.data() + at, z * 4);
    if (has_timestamps()) std::memcpy(out.timestamps + done, win.timestamps.data() + at, z * 8);
    if (has_weights()) std::memcpy(out.weights + done, win.weights.data() + at, z * 4);
    done += take;
  }
}

}  // namespace tandem
