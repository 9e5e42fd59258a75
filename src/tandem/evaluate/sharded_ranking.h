// rank_targets (tiled_ranking.h) over a catalogue whose vectors are spread
// over the ranks of a job: each rank scores only the candidates whose item
// row it holds (row mod N, table_shard.h), counts per (query, target) its
// candidates scoring strictly higher than the target, and the counts are
// summed over the ranks. The metrics are functions of these ranks, so the
// sum gives what one process computes.
//
// Each target's score, the threshold every rank compares with, is computed
// by the rank holding the target (a dot product accumulated in double,
// rounded to float) and shared: one value for all ranks. One process reads
// it from the same GEMM tile as the candidates instead, so a candidate
// within float rounding of the target (a tie at the last bit) may count
// differently; nothing else can.
#pragma once

#include <cstdint>
#include <vector>

#include "tandem/core/communicator.h"
#include "tandem/evaluate/tiled_ranking.h"
#include "tandem/model/embedding_table.h"
#include "tandem/model/table_shard.h"

namespace tandem {

// This rank's rows of the candidates' table: `table` holds the rows of
// `shard` (local row r / N for item row r).
struct ShardedCandidates {
  const std::vector<int32_t>* item_rows = nullptr;  // candidate index -> item row (all candidates)
  const EmbeddingTable* table = nullptr;            // this rank's shard of the item table
  TableShard shard;
};

// Collective. queries [targets.queries(), dim] (the same on every rank);
// targets and excluded as for rank_targets, indices into item_rows. Runs on
// `threads` workers (the BLAS single-threaded inside). Returns every
// target's rank (the same on every rank); a target scoring NaN gets the
// candidate count, as with rank_targets.
std::vector<int64_t> rank_targets_sharded(Communicator& comm, const float* queries, int64_t dim,
                                          const ShardedCandidates& candidates, const PerQueryLists& targets,
                                          const PerQueryLists* excluded, int threads,
                                          TargetRankTimes* times = nullptr);

}  // namespace tandem
