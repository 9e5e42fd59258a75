#include "tandem/model/sharded_traffic.h"

namespace tandem {

namespace {
// Rank r's chunk of n elements split over `ranks` (Communicator::ordered_sum).
double chunk(int64_t n, int r, int ranks) {
  return static_cast<double>(n * (r + 1) / ranks - n * r / ranks);
}
// Bytes a rank sends in one ordered_sum of n values of `bytes` bytes each.
double ordered_sum_bytes(int64_t n, int64_t bytes, int r, int ranks) {
  const double mine = chunk(n, r, ranks);
  return static_cast<double>(bytes) * ((static_cast<double>(n) - mine) + mine * (ranks - 1));
}
}  // namespace

std::array<double, kTrafficKinds> predicted_sharded_bytes(const MultiTaskModel::ShardedCounts& c, int rank,
                                                          int ranks, int64_t dim, int64_t dense_per_step) {
  std::array<double, kTrafficKinds> out{};
  const double n = ranks, d = static_cast<double>(dim), steps = static_cast<double>(c.steps);
  const double sizes = 2.0 * 8.0 * n * (n - 1.0);  // two exchange_sizes per step
  const auto at = [&](TrafficKind k) -> double& { return out[static_cast<size_t>(k)]; };
  at(TrafficKind::kLookup) = 4.0 * static_cast<double>(c.lookup_remote_rows) +
                             4.0 * d * static_cast<double>(c.served_rows) + steps * sizes;
  at(TrafficKind::kSoftmaxGather) =
      (n - 1.0) * (4.0 * static_cast<double>(c.part_examples) + 4.0 * d * static_cast<double>(c.part_item_rows));
  at(TrafficKind::kBatchReduce) =
      4.0 * d * static_cast<double>(c.batch_examples + c.sampled_rows - c.part_item_rows);
  at(TrafficKind::kRowGradient) =
      (4.0 + 4.0 * d) * static_cast<double>(c.scatter_remote_examples) + steps * sizes;
  at(TrafficKind::kDenseReduce) = steps * ordered_sum_bytes(dense_per_step, 4, rank, ranks);
  constexpr int64_t kLossValues = 2 + kMaxExtraTasks + 1;
  at(TrafficKind::kControl) = steps * (8.0 * (n - 1.0) + ordered_sum_bytes(kLossValues, 8, rank, ranks));
  return out;
}

}  // namespace tandem
