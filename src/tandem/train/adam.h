// Adam as in Keras (keras.optimizers.Adam), for step t = 1, 2, ...:
//   alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)      (bias correction)
//   m += (g - m) * (1 - beta1)
//   v += (g^2 - v) * (1 - beta2)
//   w -= alpha * m / (sqrt(v) + epsilon)
// with m and v starting at 0.
//
// Embedding tables are updated lazily, as TensorFlow Addons' LazyAdam and
// PyTorch's SparseAdam do: only the rows a batch touched update their m, v
// and weights, and the bias correction uses the global step t. Dense Adam
// would, for every untouched row (g = 0), still decay m and v and move the
// weights by alpha * m / (sqrt(v) + eps): a cost in O(table) per step instead
// of O(batch), and rows of rare ids that keep drifting long after their last
// gradient. A row touched at every step gets exactly the dense update (tested);
// a rarely touched row gets its moments' full (undecayed) memory when it
// comes back, which is the accepted trade-off of lazy Adam.
#pragma once

#include <cstdint>
#include <vector>

#include "tandem/model/embedding_table.h"

namespace tandem {

// One step's constants.
struct AdamStep {
  float alpha = 0.0f;            // the bias-corrected learning rate
  float one_minus_beta1 = 0.1f;  // 1 - beta1
  float one_minus_beta2 = 0.001f;
  float epsilon = 1e-7f;
  float l2 = 0.0f;  // the gradient gains l2 x w (see l2_gradient.h)
};

// The constants of global step t (1-based: the first step is t = 1).
AdamStep make_adam_step(float learning_rate, float beta1, float beta2, float epsilon, float l2,
                        int64_t t);

// The rule on n contiguous values; m and v are the parameter's moments.
void adam_update(const AdamStep& s, float* w, float* m, float* v, const float* g, int64_t n);

// Lazy sparse step: the rule on the rows in `grad` only (slots [first,
// last), all by default); m and v have the
// table's shape.
void adam_update_rows(const AdamStep& s, EmbeddingTable& table, std::vector<float>& m,
                      std::vector<float>& v, const RowGradient& grad, int64_t first = 0,
                      int64_t last = -1);

}  // namespace tandem
