#include "tandem/train/adagrad.h"

#include <cmath>

#include "tandem/train/l2_gradient.h"

namespace tandem {

void adagrad_update(const AdagradStep& s, float* w, float* acc, const float* g, int64_t n) {
  const float lr = s.learning_rate;
  const float eps = s.epsilon;
  for_each_gradient(s.l2, w, g, n, [&](int64_t i, float gi) {
    acc[i] += gi * gi;
    w[i] -= lr * gi / (std::sqrt(acc[i]) + eps);
  });
}

void adagrad_update_rows(const AdagradStep& s, EmbeddingTable& table, std::vector<float>& acc,
                         const RowGradient& grad, int64_t first,
                         int64_t last) {
  const int64_t d = table.dim;
  const auto& rows = grad.rows();
  if (last < 0) last = grad.count();
  for (int64_t r = first; r < last; ++r) {
    const int64_t row = rows[static_cast<size_t>(r)];
    adagrad_update(s, table.row(row), acc.data() + row * d, grad.grad(r), d);
  }
}

}  // namespace tandem
