// Adagrad as in Keras/TensorFlow (tf.keras.optimizers.Adagrad, the optimizer
// of both tutorials):
//   acc += g^2 ;  w -= lr * g / (sqrt(acc) + epsilon)
// with acc starting at initial_accumulator. For embedding tables only the rows
// a batch touched are updated: an untouched row has g = 0, for which the dense
// rule changes neither acc nor w, so the sparse step equals the dense one
// exactly (duplicate ids being summed first, see RowGradient). With an L2
// penalty an untouched row would have g = l2 x w != 0 in a dense step, so
// the penalty applies to the touched rows only (see optimizer.h).
#pragma once

#include <cstdint>
#include <vector>

#include "tandem/model/embedding_table.h"

namespace tandem {

// One step's constants.
struct AdagradStep {
  float learning_rate = 0.1f;
  float epsilon = 1e-7f;
  float l2 = 0.0f;  // the gradient gains l2 x w (see l2_gradient.h)
};

// The update rule on n contiguous values.
void adagrad_update(const AdagradStep& s, float* w, float* acc, const float* g, int64_t n);

// Sparse step: the rule applied to the rows in `grad` only (its slots
// [first, last), all by default: distinct rows, so threads may take disjoint
// ranges). `acc` has the
// table's shape.
void adagrad_update_rows(const AdagradStep& s, EmbeddingTable& table, std::vector<float>& acc,
                         const RowGradient& grad, int64_t first = 0, int64_t last = -1);

}  // namespace tandem
