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

StoreBatchSource::StoreBatchSource(const PreparedStore& store, const StreamShape& shape)
    : store_(store), shape_(shape), order_(store.train.rows, shape.block_rows, shape.window_blocks) {}

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
  const int64_t user_rows = store.users.rows(), item_rows = store.items.rows();
  for (size_t i = 0; i < n; ++i)
    TANDEM_CHECK(raw.users[i] >= 0 && raw.users[i] < user_rows && raw.items[i] >= 0 && raw.items[i] < item_rows,
                 store.files.dir() << "/train.*: an example has rows (" << raw.users[i] << ", " << raw.items[i]
                                   << ") outside the tables (" << user_rows << " x " << item_rows << ")");
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
    current_ = load(store_, order_, epoch, w);
  }
  ++windows_read_;
  next_index_ = -1;
  if (w + 1 < order_.windows()) {
    next_index_ = w + 1;
    next_ = std::async(std::launch::async, &StoreBatchSource::load, std::cref(store_), std::cref(order_), epoch,
                       w + 1);
  }
  return current_;
}

void StoreBatchSource::gather(const TrainerState&, int64_t first, int64_t count, const BatchBuffers& out) {
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
