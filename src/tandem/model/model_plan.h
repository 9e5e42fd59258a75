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
  // The head tasks (rating, then the extra ones): each an Mlp, a packed
  // gradient per worker, its loss's workspace.
  Footprint heads;
  // The retrieval task's softmax as built (dedups, compacted rows, score
  // blocks); its first steps add retrieval_growth_bytes.
  Footprint retrieval;
  int64_t retrieval_growth_bytes = 0;
  Footprint experts;      // both towers' expert layers (zero with a shared bottom)
  Footprint towers;       // both side-feature towers (zero without)
  // The model's own step buffers: gathered task vectors and their gradients
  // (the item side also over the sampled negatives), the id tables'
  // RowGradients.
  Footprint step;

  // Everything above but the growth: what MultiTaskModel::allocated()
  // reports. Not in it: the optimizer's state (optimizer_state_bytes), the
  // learned task weights' few floats, and what configure_retrieval resizes
  // for mixed negatives.
  Footprint model() const {
    return user_table + item_table + heads + retrieval + experts + towers + step;
  }
};

ModelPlan plan_model(const ModelPlanInput& input);

// Optimizer state for a part whose parameters the optimizer keeps `slots`
// values each of (Adagrad 1, Adam 2, SGD 0 or 1: optimizer_slot_names).
inline int64_t optimizer_state_bytes(const Footprint& part, int64_t slots) {
  return footprint_mul(part.parameters, slots);
}


}  // namespace tandem
