// The bytes one rank sends in the sharded steps, by kind, from what the
// steps moved in rows (MultiTaskModel::ShardedCounts): the formulas of
// docs/distributed.md, in code, so that the byte counters of the
// Communicator can be checked against them (they agree exactly).
// With N ranks, dimension d and, summed over steps: b this rank's examples,
// I its item rows (b, plus the sampled negatives on the last rank), B the
// batches' examples, S the sampled negatives, L its remote lookups (rows it
// asked others for), A the rows it served others, G its examples whose row
// gradient goes to another rank, P the dense gradients' floats, T steps:
//   lookup          4 L + 4 d A + T * 2 * 8 N (N - 1)
//   softmax gather  (N - 1) (4 b + 4 d I)
//   batch reduce    4 d (B + S - I)
//   row gradient    (4 + 4 d) G + T * 2 * 8 N (N - 1)
//   dense allreduce 4 (P - p_r) + 4 p_r (N - 1), p_r this rank's chunk of
//                   each step's P (P (r + 1) / N - P r / N)
//   control         T * (8 (N - 1) + 8 (11 - c_r) + 8 c_r (N - 1)), c_r its
//                   chunk of the 11 per-step loss values
#pragma once

#include <array>

#include "tandem/core/communicator.h"
#include "tandem/model/multitask_model.h"

namespace tandem {

// The per-kind bytes (TrafficKind order) for `counts` of rank `rank` of
// `ranks`, with `dense_per_step` the dense floats each step summed (the
// chunks are split per step, so the per-step size is needed).
std::array<double, kTrafficKinds> predicted_sharded_bytes(const MultiTaskModel::ShardedCounts& counts,
                                                          int rank, int ranks, int64_t dim,
                                                          int64_t dense_per_step);

}  // namespace tandem
