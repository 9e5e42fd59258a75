// Training batches streamed from a store's train columns (prepared_store.h)
// in a BlockShuffle order (train/block_shuffle.h): one window of examples is
// in memory, and a prefetch thread reads and shuffles the next window while
// the steps consume the current one. Memory: at most three windows' columns
// (the current one, the next, and the next's rows as read before their
// shuffle), whatever the number of examples.
//
// The epoch's order: shuffle "none", the rows' order (as in memory);
// "once", one block shuffle seeded by the trainer's shuffle seed and
// replayed every epoch; "every-epoch", a new one per epoch (seeded by the
// seed and the epoch). The TrainerState's `order` stays empty: the position
// (epoch, step) and the seed determine everything, so resuming is exact.
#pragma once

#include <cstdint>
#include <future>
#include <memory>
#include <vector>

#include "tandem/prepare/prepared_store.h"
#include "tandem/train/batch_source.h"
#include "tandem/train/block_shuffle.h"

namespace tandem {

// Examples per block and blocks per shuffle window ([training]
// stream_block_rows and stream_window_blocks).
struct StreamShape {
  int64_t block_rows = 65536;
  int64_t window_blocks = 4;
  int64_t window_rows() const { return block_rows * window_blocks; }
};

// Bytes of the buffers a StoreBatchSource holds at most.
int64_t stream_buffer_bytes(const StreamShape& shape, bool timestamps, bool weights);

class StoreBatchSource final : public BatchSource {
 public:
  // With several ranks (rank of ranks), the source holds and reads only the
  // rows r with r mod ranks == rank (the in-memory rule: a strided part,
  // so every batch spreads evenly over the ranks whatever the shuffle), and
  // is read with gather_part.
  StoreBatchSource(const PreparedStore& store, const StreamShape& shape, int rank = 0, int ranks = 1);
  ~StoreBatchSource() override;

  int64_t size() const override { return store_.train.rows; }
  bool has_timestamps() const override { return store_.train.timestamps; }
  bool has_weights() const override { return store_.train.weights; }
  void start_step(TrainerState& state, ShuffleMode mode) override;
  void gather(const TrainerState& state, int64_t first, int64_t count, const BatchBuffers& out) override;
  int64_t gather_part(const TrainerState& state, int64_t first, int64_t count,
                      const BatchBuffers& out) override;

  // Windows read so far (each once per epoch when nothing is skipped).
  int64_t windows_read() const { return windows_read_; }

 private:
  struct Window {
    int64_t epoch = -1, index = -1;
    std::vector<int32_t> users, items;
    std::vector<float> labels, weights;
    std::vector<int64_t> timestamps;
    // With several ranks: the window positions (ascending) of the examples
    // this rank holds, parallel to the columns above.
    std::vector<uint32_t> positions;
  };
  // Reads and shuffles window `w` of the current epoch order (on any thread).
  static Window load(const PreparedStore& store, const BlockShuffle& order, int64_t epoch, int64_t w);
  // The same for rank `rank` of `ranks`: only its rows are read and kept.
  static Window load_part(const PreparedStore& store, const BlockShuffle& order, int64_t epoch, int64_t w,
                          int rank, int ranks);
  const Window& window(int64_t epoch, int64_t w);

  const PreparedStore& store_;
  StreamShape shape_;
  BlockShuffle order_;
  int64_t epoch_ = -1;  // the epoch order_ is set for
  Window current_;
  std::future<Window> next_;
  int64_t next_index_ = -1;
  int64_t windows_read_ = 0;
  int rank_ = 0, ranks_ = 1;
};

}  // namespace tandem
