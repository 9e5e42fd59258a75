#include "tandem/model/mse_loss.h"

namespace tandem {

double MseLoss::forward(const float* pred, const float* label, int64_t n) {
  if (n <= 0) return 0.0;
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double e = static_cast<double>(pred[i]) - label[i];
    sum += e * e;
  }
  return sum / static_cast<double>(n);
}

void MseLoss::backward(const float* pred, const float* label, int64_t n, float scale, float* grad) {
  if (n <= 0) return;
  const float c = scale * 2.0f / static_cast<float>(n);
  for (int64_t i = 0; i < n; ++i) grad[i] = c * (pred[i] - label[i]);
}

}  // namespace tandem
