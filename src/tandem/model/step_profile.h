// Where a training step's wall time goes, phase by phase (`tandem train
// --profile`, `tandem bench`): the trainer's own phases (shuffle, batch
// gather, optimizer updates), the model's (towers, each task, reduction of
// the workers' partial gradients, backward and scatter), and how much of the
// step ran inside the thread pool's parallel regions, from which the serial
// fraction and Amdahl's bound follow. Recording costs two clock reads per
// phase per step, so it is always on; printing is what --profile asks for.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tandem {

enum class StepPhase : int {
  kShuffle,           // permuting the example order at an epoch's start
  kBatchGather,       // copying the batch's ids, labels, weights out of the examples
  kTowersForward,     // embedding gathers and the towers' forward pass
  kExpertsForward,    // mixture-of-experts forward
  kTasks,             // every task's forward, loss and backward (per task below)
  kReduce,            // summing the workers' partial dense gradients
  kWeighting,         // task weighting (fixed or learned)
  kExpertsBackward,   // mixture-of-experts backward
  kTowersBackward,    // towers' backward and the scatter into row gradients
  kOptimizerDense,    // dense parameters' updates
  kOptimizerSparse,   // embedding rows' updates
  kCount
};
const char* phase_name(StepPhase p);

struct StepProfile {
  std::array<double, static_cast<int>(StepPhase::kCount)> seconds{};
  // Each task's share of kTasks, without its reduction: retrieval first,
  // then the heads in model order (names set by the model).
  std::vector<std::string> task_names;
  std::vector<double> task_seconds;
  double step_seconds = 0.0;      // wall time of the steps, shuffle included
  double parallel_seconds = 0.0;  // of which inside the pool's parallel regions
  int64_t steps = 0;
  int threads = 1;
  // What the steps moved, counted as they ran (for the memory-traffic
  // estimate, step_traffic.h): examples, each embedding table's touched
  // rows after the batch's dedup (sparse_parameters() order) and retrieval
  // score entries, each summed over the steps.
  int64_t examples = 0;
  std::vector<double> rows_touched;
  double score_entries = 0.0;

  double& operator[](StepPhase p) { return seconds[static_cast<size_t>(p)]; }
  double operator[](StepPhase p) const { return seconds[static_cast<size_t>(p)]; }
  // Time outside the pool's parallel regions over the step time: 1 with one
  // thread (nothing runs in parallel), NaN before any step.
  double serial_fraction() const;
  // Amdahl's bound on the speed-up over one thread at `threads` threads,
  // from this run's serial and parallel time (the parallel part assumed to
  // scale perfectly from this run's thread count).
  double amdahl_speedup(int threads) const;
  void clear();
  // {"steps", "threads", "step_seconds", "phase_seconds": {...},
  //  "task_seconds": {...}, "serial_fraction", "amdahl_speedup_at": {...}}
  nlohmann::json to_json() const;
  // A table, one phase a line, with seconds, ms per step and share.
  std::string table() const;
};

// Adds the wall time of its scope to one phase of a profile (none: no-op).
class PhaseTimer {
 public:
  PhaseTimer(StepProfile* profile, StepPhase phase)
      : profile_(profile), phase_(phase), start_(profile ? std::chrono::steady_clock::now()
                                                         : std::chrono::steady_clock::time_point{}) {}
  ~PhaseTimer() {
    if (profile_)
      (*profile_)[phase_] +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  PhaseTimer(const PhaseTimer&) = delete;
  PhaseTimer& operator=(const PhaseTimer&) = delete;

 private:
  StepProfile* profile_;
  StepPhase phase_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace tandem
