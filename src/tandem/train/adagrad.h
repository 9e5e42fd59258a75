// Adagrad as in Keras/TensorFlow (tf.keras.optimizers.Adagrad, the optimizer
// of both tutorials):
//   acc += g^2 ;  w -= lr * g / (sqrt(acc) + epsilon)
// with acc starting at initial_accumulator. For embedding tables only the rows
// a batch touched are updated: an untouched row has g = 0, for which the dense
// rule changes neither acc nor w, so the sparse step equals the dense one
// exactly (duplicate ids being summed first, see RowGradient).
#pragma once

#include <cstdint>
#include <vector>

#include "tandem/model/embedding_table.h"

namespace tandem {

struct AdagradConfig {
  float learning_rate = 0.1f;
  float initial_accumulator = 0.1f;
  float epsilon = 1e-7f;
};

// The update rule on n contiguous values.
void adagrad_update(const AdagradConfig& cfg, float* w, float* acc, const float* g, int64_t n);

// Sparse step: the rule applied to the rows in `grad` only. `acc` has the
// table's shape.
void adagrad_update_rows(const AdagradConfig& cfg, EmbeddingTable& table, std::vector<float>& acc,
                         const RowGradient& grad);

}  // namespace tandem
