// SGD as in Keras (keras.optimizers.SGD):
//   momentum = 0:  w -= lr * g                      (no state)
//   otherwise:     u = momentum * u - lr * g        (u starts at 0)
//                  w += u                           (classical)
//                  w += momentum * u - lr * g       (Nesterov)
// The velocity u carries the learning rate (Keras' form, unlike PyTorch's
// u = momentum * u + g; w -= lr * u), which matters only when a schedule
// changes the rate.
//
// Embedding tables are updated lazily: only the rows a batch touched update
// their velocity and weights. Dense momentum would keep moving every row a
// past batch touched, by momentum^k * u, for ever after, at O(table) cost per
// step; lazily, an untouched row stays where it is and keeps its velocity
// for the next time it is touched. A row touched at every step gets exactly
// the dense update (tested).
#pragma once

#include <cstdint>

#include "tandem/model/embedding_table.h"

namespace tandem {

struct MomentumStep {
  float learning_rate = 0.01f;
  float momentum = 0.0f;
  bool nesterov = false;
  float l2 = 0.0f;  // the gradient gains l2 x w (see l2_gradient.h)
};

// The rule on n contiguous values; `velocity` may be null when momentum is 0.
void momentum_update(const MomentumStep& s, float* w, float* velocity, const float* g, int64_t n);

// Lazy sparse step on the rows in `grad` (slots [first, last), all by
// default); `velocity` has the table's shape,
// or is null when momentum is 0.
void momentum_update_rows(const MomentumStep& s, EmbeddingTable& table, float* velocity,
                          const RowGradient& grad, int64_t first = 0, int64_t last = -1);

}  // namespace tandem
