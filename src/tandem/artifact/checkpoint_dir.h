// A run's checkpoint directory: numbered files ckpt-<global step>.tandem-ckpt
// (9+ digits, so names sort by step). Each is written atomically (temporary,
// fsync, rename, directory fsync) and only then are older ones deleted,
// keeping the newest kKeepCheckpoints: the directory always holds a complete
// checkpoint once the first one exists, and a damaged newest file still
// leaves the previous one to fall back to.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tandem/artifact/checkpoint.h"

namespace tandem {

inline constexpr size_t kKeepCheckpoints = 2;

std::string checkpoint_file_name(int64_t global_step);

// Checkpoint files in `dir` as (step, path), newest first; other names
// (temporaries of an interrupted write included) are ignored.
std::vector<std::pair<int64_t, std::string>> list_checkpoints(const std::string& dir);

struct SkippedCheckpoint {
  std::string path;
  std::string reason;  // the read error: truncated, checksum mismatch, ...
};

struct ResumePoint {
  std::string path;
  Checkpoint checkpoint;
  // Newer files that did not read back intact, newest first (for warnings).
  std::vector<SkippedCheckpoint> skipped;
};

// The newest checkpoint in `dir` that reads back intact. Throws
// tandem::Error naming the directory (and each file's problem) when there
// is none.
ResumePoint find_resume_point(const std::string& dir);

struct CheckpointWritten {
  std::string path;
  int64_t global_step = 0;
  int64_t bytes = 0;
  double seconds = 0.0;  // encode, write, fsync, rename, prune
};

class CheckpointWriter {
 public:
  // A fresh run (`resumed` null) creates `dir` if needed and refuses one that
  // already holds checkpoints, so two runs never mix. A resumed run deletes
  // the damaged files find_resume_point skipped once it has written a newer
  // checkpoint.
  CheckpointWriter(std::string dir, const ResumePoint* resumed);

  // Writes the checkpoint of `state` (named by its global step), then
  // deletes all but the newest kKeepCheckpoints and stale temporaries.
  CheckpointWritten write(const CheckpointRun& run, const MultiTaskModel& model,
                          const TrainerState& state);

  // The newest complete checkpoint of this run ("" before the first).
  const std::string& last_good() const { return last_good_; }
  int64_t last_good_step() const { return last_step_; }

 private:
  void prune();

  std::string dir_;
  std::string last_good_;
  int64_t last_step_ = -1;
  std::vector<std::string> damaged_;
};

}  // namespace tandem
