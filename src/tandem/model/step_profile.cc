#include "tandem/model/step_profile.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace tandem {

const char* phase_name(StepPhase p) {
  switch (p) {
    case StepPhase::kShuffle: return "shuffle";
    case StepPhase::kBatchGather: return "batch_gather";
    case StepPhase::kTowersForward: return "towers_forward";
    case StepPhase::kExpertsForward: return "experts_forward";
    case StepPhase::kTasks: return "tasks";
    case StepPhase::kReduce: return "reduce";
    case StepPhase::kWeighting: return "weighting";
    case StepPhase::kExpertsBackward: return "experts_backward";
    case StepPhase::kTowersBackward: return "towers_backward_scatter";
    case StepPhase::kOptimizerDense: return "optimizer_dense";
    case StepPhase::kOptimizerSparse: return "optimizer_sparse";
    case StepPhase::kCount: break;
  }
  return "?";
}

double StepProfile::serial_fraction() const {
  if (step_seconds <= 0.0) return std::numeric_limits<double>::quiet_NaN();
  if (threads <= 1) return 1.0;
  return std::max(0.0, step_seconds - parallel_seconds) / step_seconds;
}

double StepProfile::amdahl_speedup(int n) const {
  // One thread's time: the serial part as measured, the parallel part as if
  // it had run on one thread (this run's parallel time x its threads).
  // Undefined without a parallel run to measure.
  if (step_seconds <= 0.0 || n < 1 || threads <= 1) return std::numeric_limits<double>::quiet_NaN();
  const double serial = std::max(0.0, step_seconds - parallel_seconds);
  const double parallel = parallel_seconds * threads;
  return (serial + parallel) / (serial + parallel / n);
}

void StepProfile::clear() {
  seconds.fill(0.0);
  std::fill(task_seconds.begin(), task_seconds.end(), 0.0);
  std::fill(rows_touched.begin(), rows_touched.end(), 0.0);
  step_seconds = parallel_seconds = score_entries = 0.0;
  steps = examples = 0;
}

namespace {
nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
}  // namespace

nlohmann::json StepProfile::to_json() const {
  nlohmann::json phases = nlohmann::json::object();
  for (int p = 0; p < static_cast<int>(StepPhase::kCount); ++p)
    phases[phase_name(static_cast<StepPhase>(p))] = seconds[static_cast<size_t>(p)];
  double known = 0.0;
  for (double s : seconds) known += s;
  phases["other"] = std::max(0.0, step_seconds - known);
  nlohmann::json tasks = nlohmann::json::object();
  for (size_t t = 0; t < task_names.size() && t < task_seconds.size(); ++t) tasks[task_names[t]] = task_seconds[t];
  nlohmann::json amdahl = nlohmann::json::object();
  for (int n : {2, 4, 8, 16}) amdahl[std::to_string(n)] = number_or_null(amdahl_speedup(n));
  return {{"steps", steps},
          {"threads", threads},
          {"step_seconds", step_seconds},
          {"parallel_seconds", parallel_seconds},
          {"phase_seconds", phases},
          {"task_seconds", tasks},
          {"serial_fraction", number_or_null(serial_fraction())},
          {"amdahl_speedup_at", amdahl}};
}

std::string StepProfile::table() const {
  std::string out;
  char line[160];
  const double per = steps > 0 ? 1000.0 / static_cast<double>(steps) : 0.0;
  const auto row = [&](const std::string& name, double s) {
    std::snprintf(line, sizeof line, "  %-26s %9.3f s %9.3f ms/step %6.1f%%\n", name.c_str(), s, s * per,
                  step_seconds > 0 ? 100.0 * s / step_seconds : 0.0);
    out += line;
  };
  std::snprintf(line, sizeof line, "step profile: %lld steps, %d thread%s, %.3f s\n",
                static_cast<long long>(steps), threads, threads == 1 ? "" : "s", step_seconds);
  out += line;
  double known = 0.0;
  for (int p = 0; p < static_cast<int>(StepPhase::kCount); ++p) {
    const double s = seconds[static_cast<size_t>(p)];
    known += s;
    row(phase_name(static_cast<StepPhase>(p)), s);
    if (static_cast<StepPhase>(p) == StepPhase::kTasks)
      for (size_t t = 0; t < task_names.size() && t < task_seconds.size(); ++t)
        row("  task " + task_names[t], task_seconds[t]);
  }
  row("other", std::max(0.0, step_seconds - known));
  const double f = serial_fraction();
  if (threads > 1) {
    std::snprintf(line, sizeof line,
                  "  serial fraction %.3f (time outside the pool's parallel regions); Amdahl bound "
                  "on the speed-up over 1 thread: %.2fx at 2, %.2fx at 8, %.2fx at 16 threads\n",
                  f, amdahl_speedup(2), amdahl_speedup(8), amdahl_speedup(16));
  } else {
    std::snprintf(line, sizeof line,
                  "  serial fraction 1 (one thread); run with --threads N > 1 for the parallel share\n");
  }
  out += line;
  return out;
}

}  // namespace tandem
