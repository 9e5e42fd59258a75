// Checks, before anything large is allocated, that a training run fits: k
// within the catalogue, and the memory the model, optimizer state and step
// workspaces will take within a budget. A typo (an id of 2e9 in an integer-id
// file, a batch of a million with a huge head) then fails in a second with a
// message naming the biggest parts, instead of with std::bad_alloc or the OOM
// killer an hour in.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tandem/core/byte_size.h"
#include "tandem/config/experiment_config.h"
#include "tandem/prepare/prepared_data.h"

namespace tandem {

struct MemoryPart {
  std::string what;
  int64_t bytes = 0;
};

struct MemoryEstimate {
  std::vector<MemoryPart> parts;
  int64_t total() const;
};

// Bytes a training run allocates for its model, optimizer and workspaces,
// part by part (embedding tables and their optimizer slots, the
// training-interaction index saved with the model, rating head, per-worker
// step buffers, the softmax scratch, evaluation scratch). The model's parts
// are read from plan_model (model/model_plan.h), which the layers' own
// footprints make up; nothing here re-derives a layer's widths. Without the
// data, side-feature towers count by their configured widths only (their
// tables' rows are unknown); check_training_resources adds their part. The
// training data itself is already loaded and not counted.
MemoryEstimate estimate_training_memory(const ExperimentConfig& config, int64_t user_rows,
                                        int64_t item_rows, int64_t train_examples);
// The same for prepared data: the towers from their real specs, and their
// part ("side-feature towers ...") last when the config has side features.
MemoryEstimate estimate_training_memory(const ExperimentConfig& config, const PreparedData& data);

// 80% of this machine's physical memory (the budget when none is given).
int64_t default_memory_budget();


// k within the catalogue, then the estimate within the budget (the config's
// memory_budget_bytes, or default_memory_budget() when it is 0). Throws
// tandem::Error naming what does not fit.
void check_training_resources(const ExperimentConfig& config, const PreparedData& data);

// The same for training from a store (tandem train --prepared): the
// examples stay on disk, so instead of them the estimate counts what is read
// into memory: the streaming buffers (`buffer_bytes`), the test pairs
// evaluated (`eval_pairs`, with timestamps/weights as the store has them) and
// the per-user cursors that build the seen-items index. With
// `stored_seen_offsets` (the store holds the index: its per-user offsets)
// the seen items stay on disk: counted are the per-row arrays and, for
// exclude_seen, the most seen items any `eval_pairs` users can have (the
// evaluated users' lists are read), instead of every training pair.
MemoryEstimate estimate_store_training_memory(const ExperimentConfig& config, int64_t user_rows,
                                              int64_t item_rows, int64_t train_examples,
                                              int64_t buffer_bytes, int64_t eval_pairs,
                                              const std::vector<int64_t>* stored_seen_offsets = nullptr);
void check_store_training_resources(const ExperimentConfig& config, int64_t catalogue_size,
                                    const MemoryEstimate& estimate);

}  // namespace tandem
