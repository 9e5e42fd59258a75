#include "tandem/train/batch_source.h"

#include <numeric>

#include "tandem/core/error.h"
#include "tandem/core/random.h"
#include "tandem/train/trainer.h"

namespace tandem {

ExamplesSource::ExamplesSource(const Examples& examples) : ex_(examples) {
  TANDEM_CHECK(ex_.weights.empty() || ex_.weights.size() == ex_.size(),
               "the training data has " << ex_.weights.size() << " weights for " << ex_.size()
                                        << " examples");
}

void ExamplesSource::start_step(TrainerState& st, ShuffleMode mode) {
  start_order_step(st, static_cast<int64_t>(ex_.size()), mode);
}

int64_t BatchSource::gather_part(const TrainerState&, int64_t, int64_t, const BatchBuffers&) {
  TANDEM_THROW("this batch source cannot split its batches over ranks (training on several ranks "
               "reads the examples in memory, each rank its part)");
}

void start_order_step(TrainerState& st, int64_t examples, ShuffleMode mode) {
  TANDEM_CHECK(st.step_in_epoch == 0 || !st.order.empty(),
               "training state is inside an epoch but has no example order");
  TANDEM_CHECK(examples <= int64_t{0xffffffff},
               examples << " examples exceed the 2^32 an example order can address");
  if (st.order.empty()) {
    st.order.resize(static_cast<size_t>(examples));
    std::iota(st.order.begin(), st.order.end(), 0u);
  }
  TANDEM_CHECK(static_cast<int64_t>(st.order.size()) == examples,
               "the training state's example order covers " << st.order.size()
                                                            << " examples, the data has " << examples);
  if (st.step_in_epoch != 0) return;
  if (mode == ShuffleMode::kEveryEpoch || (mode == ShuffleMode::kOnce && st.epochs_done == 0)) {
    Rng rng(st.shuffle_state);
    shuffle(st.order, rng);
    st.shuffle_state = rng.state();
  }
}

void ExamplesSource::gather(const TrainerState& st, int64_t first, int64_t count, const BatchBuffers& out) {
  const uint32_t* order = st.order.data() + first;
  for (int64_t i = 0; i < count; ++i) {
    const uint32_t e = order[i];
    out.users[i] = ex_.users[e];
    out.items[i] = ex_.items[e];
    out.labels[i] = ex_.labels[e];
  }
  if (has_timestamps())
    for (int64_t i = 0; i < count; ++i) out.timestamps[i] = ex_.timestamps[order[i]];
  if (has_weights())
    for (int64_t i = 0; i < count; ++i) out.weights[i] = ex_.weights[order[i]];
}

Examples take_shard(const Examples& all, int rank, int ranks) {
  TANDEM_CHECK(ranks >= 1 && rank >= 0 && rank < ranks, "rank " << rank << " of " << ranks);
  Examples part;
  const size_t n = all.size();
  const auto step = static_cast<size_t>(ranks);
  const size_t mine = n > static_cast<size_t>(rank) ? (n - static_cast<size_t>(rank) + step - 1) / step : 0;
  part.users.reserve(mine);
  part.items.reserve(mine);
  part.labels.reserve(mine);
  for (size_t e = static_cast<size_t>(rank); e < n; e += step) {
    part.users.push_back(all.users[e]);
    part.items.push_back(all.items[e]);
    part.labels.push_back(all.labels[e]);
    if (all.timestamps.size() == n) part.timestamps.push_back(all.timestamps[e]);
    if (all.weights.size() == n) part.weights.push_back(all.weights[e]);
  }
  return part;
}

ShardedExamplesSource::ShardedExamplesSource(const Examples& part, int64_t examples, int rank, int ranks)
    : part_(part), examples_(examples), rank_(rank), ranks_(ranks) {
  TANDEM_CHECK(ranks >= 1 && rank >= 0 && rank < ranks, "rank " << rank << " of " << ranks);
  TANDEM_CHECK(examples >= ranks, examples << " training examples cannot be spread over " << ranks
                                           << " ranks: each needs at least one");
  const int64_t mine = examples > rank ? (examples - rank + ranks - 1) / ranks : 0;
  TANDEM_CHECK(static_cast<int64_t>(part.size()) == mine,
               "rank " << rank << " of " << ranks << " holds " << part.size() << " of " << examples
                       << " examples; its part is every " << ranks << "th from the " << rank
                       << "th, " << mine << " examples");
  TANDEM_CHECK(part.weights.empty() || part.weights.size() == part.size(),
               "the training data has " << part.weights.size() << " weights for " << part.size()
                                        << " examples");
}

void ShardedExamplesSource::start_step(TrainerState& st, ShuffleMode mode) {
  start_order_step(st, examples_, mode);
}

void ShardedExamplesSource::gather(const TrainerState& st, int64_t first, int64_t count,
                                   const BatchBuffers& out) {
  // Whole batches only from a part that is the whole (one rank).
  TANDEM_CHECK(ranks_ == 1, "rank " << rank_ << " of " << ranks_
                                    << " holds part of the examples: read it with gather_part");
  gather_part(st, first, count, out);
}

int64_t ShardedExamplesSource::gather_part(const TrainerState& st, int64_t first, int64_t count,
                                           const BatchBuffers& out) {
  const uint32_t* order = st.order.data() + first;
  const auto ranks = static_cast<uint32_t>(ranks_), rank = static_cast<uint32_t>(rank_);
  int64_t m = 0;
  for (int64_t i = 0; i < count; ++i) {
    const uint32_t e = order[i];
    if (e % ranks != rank) continue;
    const uint32_t l = e / ranks;
    out.users[m] = part_.users[l];
    out.items[m] = part_.items[l];
    out.labels[m] = part_.labels[l];
    if (has_timestamps()) out.timestamps[m] = part_.timestamps[l];
    if (has_weights()) out.weights[m] = part_.weights[l];
    ++m;
  }
  return m;
}

}  // namespace tandem
