// The memory a MultiTaskModel of a given shape will allocate, part by part,
// read from the layers' own footprint(...) functions (footprint.h) before
// anything is allocated: the one derivation of the model's buffer sizes,
// which the resource guard (experiment/resource_guard.h) turns into its
// estimate. plan_model(input).model() equals MultiTaskModel::allocated() for
// a model built from the same input (tests/model/model_plan_test.cc).
#pragma once

#include <cstdint>

#include "tandem/model/footprint.h"
#include "tandem/model/multitask_model.h"

namespace tandem {

// What a MultiTaskModel is constructed from.
struct ModelPlanInput {
  ModelShape shape;
  int64_t max_batch = 1;
  int workers = 1;
  int64_t sampled_items = 0;  // the most mixed negatives a step draws
};

struct ModelPlan {
  Footprint user_table, item_table;  // the id embedding tables
  Footprint rating_head;  // the head's Mlp, plus one packed gradient per worker
  Footprint experts;      // both towers' expert layers (zero with a shared bottom)
  Footprint towers;       // both side-feature towers (zero without)
  // The model's own step buffers: gathered task vectors and their gradients
  // (the item side also over the sampled negatives), the id tables'
  // RowGradients and RowDedups, per-worker loss sums, the ranking loss's
  // workspace, the per-example query index of a timestamp feature.
  Footprint step;

  // Everything above: what MultiTaskModel::allocated() reports. Not in it:
  // the retrieval softmax's workspace (retrieval_softmax_workspace_bytes
  // below), the optimizer's state (optimizer_state_bytes), the learned task
  // weights' two floats, and the buffers the optioned softmax sizes when it
  // is configured and on its first step.
  Footprint model() const {
    return user_table + item_table + rating_head + experts + towers + step;
  }
};

ModelPlan plan_model(const ModelPlanInput& input);

// Optimizer state for a part whose parameters the optimizer keeps `slots`
// values each of (Adagrad 1, Adam 2, SGD 0 or 1: optimizer_slot_names).
inline int64_t optimizer_state_bytes(const Footprint& part, int64_t slots) {
  return footprint_mul(part.parameters, slots);
}

// ---------------------------------------------------------------------------
// TO MOVE: the retrieval softmax's footprint belongs in its loss class
// (InBatchSoftmaxLoss / RetrievalSoftmaxLoss), which is being rewritten on
// another branch; after that merge, make this a static footprint() there and
// delete it here. Bytes of the in-batch softmax's score workspace for a step
// of max_batch examples: per worker, a block of min(256, max_batch) score rows
// (all max_batch rows with distinct_rows off, the full score matrix) by
// max_batch columns, counted twice (an allowance for the per-worker partial
// gradients the loss sizes on its first step).
int64_t retrieval_softmax_workspace_bytes(int64_t max_batch, int workers, bool distinct_rows);
// ---------------------------------------------------------------------------

}  // namespace tandem
