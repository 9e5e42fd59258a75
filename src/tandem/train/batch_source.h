// Where the trainer's batches come from: the examples in memory, gathered
// through a permutation of all of them (ExamplesSource), or a columnar store
// on disk read window by window (train/store_batch_source.h). The trainer
// asks a source for the examples at positions [first, first + count) of the
// epoch's order; how that order is made is the source's business, and so is
// the part of TrainerState that records it (the permutation `order` in
// memory; nothing beyond the epoch and step for the store, whose order is a
// function of the seed, the epoch and the position).
#pragma once

#include <cstdint>

#include "tandem/data/examples.h"

namespace tandem {

struct TrainerState;
enum class ShuffleMode;

// The trainer's batch arrays, each of the batch's capacity.
struct BatchBuffers {
  int32_t* users = nullptr;
  int32_t* items = nullptr;
  float* labels = nullptr;
  int64_t* timestamps = nullptr;  // filled only when has_timestamps()
  float* weights = nullptr;       // filled only when has_weights()
};

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual int64_t size() const = 0;
  virtual bool has_timestamps() const = 0;
  virtual bool has_weights() const = 0;
  // Called before every step: checks that `state` belongs to this source and
  // data, and at the first step of an epoch (state.step_in_epoch == 0) sets
  // up that epoch's order (which may change state.order and shuffle_state).
  virtual void start_step(TrainerState& state, ShuffleMode mode) = 0;
  // Copies the examples at positions [first, first + count) of the epoch's
  // order into `out`.
  virtual void gather(const TrainerState& state, int64_t first, int64_t count, const BatchBuffers& out) = 0;
  // Whether gather() may be called for disjoint ranges of one batch from
  // several threads at once (a source that only reads, unlike one that may
  // load its next window in the middle of a batch).
  virtual bool gathers_concurrently() const { return false; }
  // With several ranks: copies those of the examples at positions
  // [first, first + count) that this rank holds into `out`, in order, and
  // returns how many (the ranks' parts make the batch). Sources that hold
  // every example throw.
  virtual int64_t gather_part(const TrainerState& state, int64_t first, int64_t count,
                              const BatchBuffers& out);
};

// The in-memory order's bookkeeping at the start of a step (an epoch's new
// shuffle), for a source of `examples` examples; ExamplesSource's start_step.
void start_order_step(TrainerState& state, int64_t examples, ShuffleMode mode);

// Examples in memory, visited through TrainerState::order: the identity
// until the first shuffle, then shuffled once or every epoch (each epoch's
// order the previous one reshuffled).
class ExamplesSource final : public BatchSource {
 public:
  explicit ExamplesSource(const Examples& examples);
  int64_t size() const override { return static_cast<int64_t>(ex_.size()); }
  bool has_timestamps() const override { return ex_.timestamps.size() == ex_.size(); }
  bool has_weights() const override { return !ex_.weights.empty(); }
  void start_step(TrainerState& state, ShuffleMode mode) override;
  void gather(const TrainerState& state, int64_t first, int64_t count, const BatchBuffers& out) override;
  bool gathers_concurrently() const override { return true; }

 private:
  const Examples& ex_;
};

// Rank `rank`'s part of `all` for a job of `ranks` ranks: examples rank,
// rank + ranks, rank + 2 ranks, ... (a strided part, so that every rank holds
// about the same number of every epoch's batch, shuffled or not).
Examples take_shard(const Examples& all, int rank, int ranks);

// One rank's part of examples in memory (take_shard's), visited through the
// same order over all `examples` examples as ExamplesSource would use, so
// that the ranks' parts of each batch make the batch one process would take.
class ShardedExamplesSource final : public BatchSource {
 public:
  ShardedExamplesSource(const Examples& part, int64_t examples, int rank, int ranks);
  int64_t size() const override { return examples_; }
  bool has_timestamps() const override { return part_.timestamps.size() == part_.size() && part_.size() > 0; }
  bool has_weights() const override { return !part_.weights.empty(); }
  void start_step(TrainerState& state, ShuffleMode mode) override;
  void gather(const TrainerState& state, int64_t first, int64_t count, const BatchBuffers& out) override;
  int64_t gather_part(const TrainerState& state, int64_t first, int64_t count,
                      const BatchBuffers& out) override;

 private:
  const Examples& part_;
  int64_t examples_;
  int rank_, ranks_;
};

}  // namespace tandem
