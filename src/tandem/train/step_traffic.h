// An estimate of the bytes one training step moves, phase by phase, counted
// from the model's structure and what the run's steps touched, so that a
// step's time can be compared with the machine's memory bandwidth
// (memory_bandwidth.h): `tandem train --profile` ("profile" ->
// "memory_traffic") and `tandem bench`.
//
// What is counted (4 bytes a float; every load and store of the step's
// arrays, as if none stayed in cache: an upper bound on the DRAM traffic,
// which caches cut where an array is reused while it is hot):
//   gather         per table lookup, the row read and its copy written into
//                  the batch buffer: 2 x lookups x dim
//   scatter        the per-example gradients read and the touched rows'
//                  gradients written: (lookups + rows) x dim
//   sparse_update  per touched row: its gradient read, its values and each
//                  optimizer slot read and written: rows x dim x (1 + 2(1 + slots))
//   dense_update   the same per trained dense value: floats x (1 + 2(1 + slots))
//   reduce         with W > 1 workers, the W partial dense gradients read
//                  and the sum written: (W + 1) x floats (0 with one worker)
//   softmax        5 passes over the score entries (the GEMM writes the
//                  scores, the softmax reads them and writes the gradient in
//                  place, the dQ and dC GEMMs each read it) plus the
//                  examples' query and candidate vectors read and their
//                  gradients written: 5 x entries + 4 x examples x dim
//   activations    per trained head, per dense layer (in -> out) over the
//                  batch: forward reads x and writes y, backward reads dy,
//                  x and y (ReLU') and writes dx: 3 x B x (in + out); the
//                  layer's weights read twice (forward, dx) and its dW
//                  written once per worker: 3 x W x in x out; plus the
//                  concatenated input written: B x in of the first layer
// Not counted: side-feature towers' and experts' layers, mixed negatives'
// extra item lookups, the batch gather from the examples, the retrieval
// gradients' reduction.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/model/multitask_model.h"
#include "tandem/model/step_profile.h"

namespace tandem {

class Trainer;

// What the count reads, per step (means over the run's steps).
struct TrafficShape {
  struct Table {
    std::string name;
    int64_t dim = 0;
    double lookups = 0.0;  // rows read per step (the batch's examples for an id table)
    double rows = 0.0;     // distinct rows touched per step
  };
  double examples = 0.0;   // per step
  int workers = 1;
  int optimizer_slots = 0;
  std::vector<Table> tables;
  // Whether Table::rows are the run's measured distinct rows (the batch's
  // dedup) or, without a run, the lookups (an upper bound).
  bool rows_measured = false;
  int64_t dense_floats = 0;  // dense parameter values the steps update
  // Each trained head's layer widths, input first (2 x task dim), output last.
  std::vector<std::vector<int64_t>> heads;
  int64_t task_dim = 0;
  double score_entries = 0.0;  // retrieval score-matrix entries per step (0: no retrieval)
};

struct StepTraffic {
  double gather = 0.0, scatter = 0.0, sparse_update = 0.0, dense_update = 0.0, reduce = 0.0,
         softmax = 0.0, activations = 0.0;  // bytes per step
  bool rows_measured = false;
  double total() const { return gather + scatter + sparse_update + dense_update + reduce + softmax + activations; }
  // {"bytes_per_step": {phase: bytes, ..., "total"}, "touched_rows":
  //  "measured" | "upper bound (lookups)", "seconds_per_step",
  //  "achieved_gbs", and with a bandwidth > 0 "bandwidth_gbs" and
  //  "fraction_of_bandwidth"}.
  nlohmann::json to_json(double seconds_per_step, double bandwidth_gbs) const;
  // One line: total MB per step, GB/s achieved and the fraction.
  std::string summary(double seconds_per_step, double bandwidth_gbs) const;
};

StepTraffic estimate_step_traffic(const TrafficShape& shape);

// The shape of `model`'s steps under `weights` (extra tasks' included) on
// `workers` workers with an optimizer of `optimizer_slots` slots, per step
// from `profile`'s counts (examples, touched rows, score entries); a
// profile without steps: one batch of `batch` examples, rows = lookups.
TrafficShape traffic_shape(const MultiTaskModel& model, const TaskWeights& weights, int workers,
                           int optimizer_slots, const StepProfile& profile, int64_t batch);
// The same for a trainer's run so far.
TrafficShape traffic_shape(const Trainer& trainer, int64_t batch);

}  // namespace tandem
