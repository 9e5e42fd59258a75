#include "tandem/train/momentum.h"

#include "tandem/train/l2_gradient.h"

namespace tandem {

void momentum_update(const MomentumStep& s, float* w, float* velocity, const float* g, int64_t n) {
  const float lr = s.learning_rate, mu = s.momentum;
  if (mu == 0.0f) {
    for_each_gradient(s.l2, w, g, n, [&](int64_t i, float gi) { w[i] -= lr * gi; });
  } else if (s.nesterov) {
    for_each_gradient(s.l2, w, g, n, [&](int64_t i, float gi) {
      velocity[i] = mu * velocity[i] - lr * gi;
      w[i] += mu * velocity[i] - lr * gi;
    });
  } else {
    for_each_gradient(s.l2, w, g, n, [&](int64_t i, float gi) {
      velocity[i] = mu * velocity[i] - lr * gi;
      w[i] += velocity[i];
    });
  }
}

void momentum_update_rows(const MomentumStep& s, EmbeddingTable& table, float* velocity,
                          const RowGradient& grad, int64_t first,
                          int64_t last) {
  const int64_t d = table.dim;
  const auto& rows = grad.rows();
  if (last < 0) last = grad.count();
  for (int64_t r = first; r < last; ++r) {
    const int64_t off = rows[static_cast<size_t>(r)] * d;
    momentum_update(s, table.weights.data() + off, velocity == nullptr ? nullptr : velocity + off,
                    grad.grad(r), d);
  }
}

}  // namespace tandem
