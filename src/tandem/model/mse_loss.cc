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
  slice_sum_and_backward(pred, label, n, n, scale, grad);
}

double MseLoss::slice_sum_and_backward(const float* pred, const float* label, int64_t count,
                                       int64_t n_total, float scale, float* grad) {
  if (count <= 0 || n_total <= 0) return 0.0;
  const float c = scale * 2.0f / static_cast<float>(n_total);
  double sum = 0.0;
  for (int64_t i = 0; i < count; ++i) {
    const float e = pred[i] - label[i];
    sum += static_cast<double>(e) * e;
    grad[i] = c * e;
  }
  return sum;
}

double MseLoss::weighted_slice_sum_and_backward(const float* pred, const float* label,
                                                const float* weight, int64_t count,
                                                int64_t n_total, float scale, float* grad) {
  if (count <= 0 || n_total <= 0) return 0.0;
  const float c = scale * 2.0f / static_cast<float>(n_total);
  double sum = 0.0;
  for (int64_t i = 0; i < count; ++i) {
    const float e = pred[i] - label[i];
    sum += static_cast<double>(weight[i]) * e * e;
    grad[i] = c * weight[i] * e;
  }
  return sum;
}

}  // namespace tandem
