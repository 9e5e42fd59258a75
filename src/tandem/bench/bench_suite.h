// The measurements behind `tandem bench`, each reported as one JSON object.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/config/experiment_config.h"

namespace tandem {

struct BenchOptions {
  std::vector<std::string> presets = {"kerasrs", "tfrs"};
  std::vector<std::string> variants = {"rating", "retrieval", "joint"};
  std::string data_dir;
  int repeats = 3;  // training runs per variant (each in its own process)
  int threads = 0;  // 0 = all cores
  std::string parallelism = "batch";
  bool distinct_rows = true;
  bool training = true;
  bool softmax_memory = true;
  bool softmax_precision = false;  // float32 vs bfloat16 score GEMMs (asked for by name)
  bool evaluation = true;
  // Synthetic scaling runs, "interactions:users:items" each; empty = none.
  std::vector<std::string> scaling;
  int64_t scaling_batch = 1000;
  // Thread counts each scaling run is repeated at; empty = `threads`.
  std::vector<int> scaling_threads;
  // Bytes per array of the bandwidth measurement; 0 = the default
  // (memory_bandwidth.h).
  int64_t bandwidth_array_bytes = 0;
};

using BenchSink = std::function<void(const nlohmann::json&)>;

// Runs what `options` asks for, handing each result row to `sink` as soon as
// it is measured. Row kinds: "machine", "train", "softmax_memory",
// "softmax_precision", "evaluation", "scaling".
void run_bench(const BenchOptions& options, const BenchSink& sink);

}  // namespace tandem
