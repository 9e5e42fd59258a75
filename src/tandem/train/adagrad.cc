#include "tandem/train/adagrad.h"

#include <cmath>

namespace tandem {

void adagrad_update(const AdagradConfig& cfg, float* w, float* acc, const float* g, int64_t n) {
  const float lr = cfg.learning_rate;
  const float eps = cfg.epsilon;
  for (int64_t i = 0; i < n; ++i) {
    acc[i] += g[i] * g[i];
    w[i] -= lr * g[i] / (std::sqrt(acc[i]) + eps);
  }
}

void adagrad_update_rows(const AdagradConfig& cfg, EmbeddingTable& table, std::vector<float>& acc,
                         const RowGradient& grad) {
  const int64_t d = table.dim;
  const auto& rows = grad.rows();
  for (int64_t s = 0; s < grad.count(); ++s) {
    const int64_t r = rows[static_cast<size_t>(s)];
    adagrad_update(cfg, table.row(r), acc.data() + r * d, grad.grad(s), d);
  }
}

}  // namespace tandem
