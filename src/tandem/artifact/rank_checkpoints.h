// Checkpoints of a run on several ranks: each rank writes its own shard (its
// rows of the tables, the replicated dense parameters, the optimizer's
// state, the trainer's state) into DIR/rank-<r>-of-<N>/ with the one-process
// CheckpointWriter, and once every rank has written step s, rank 0 writes
// DIR/ranks.json (atomically) naming s. The manifest is written last, so
// it only ever names a step every shard holds (each keeps its newest two),
// and a job killed at any moment resumes from the last step all ranks
// completed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tandem/artifact/checkpoint_dir.h"

namespace tandem {

// DIR/rank-<rank>-of-<ranks>.
std::string rank_checkpoint_dir(const std::string& dir, int rank, int ranks);

struct RankManifest {
  int ranks = 0;
  int64_t global_step = 0;
};

// DIR/ranks.json, if the run in DIR was checkpointed by several ranks.
// Throws tandem::Error naming the file when it is there but unreadable.
std::optional<RankManifest> read_rank_manifest(const std::string& dir);
void write_rank_manifest(const std::string& dir, const RankManifest& m);

// Rank `rank`'s resume point of a run checkpointed by several ranks: the
// step the manifest names, from its own directory. Refuses another rank
// count with a message saying how to resume (the shards are not re-sharded).
ResumePoint find_rank_resume_point(const std::string& dir, int rank, int ranks);

}  // namespace tandem
