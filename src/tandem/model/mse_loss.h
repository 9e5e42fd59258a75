// Mean squared error, the ranking task's loss: L = mean_i (p_i - y_i)^2.
#pragma once

#include <cstdint>

namespace tandem {

struct MseLoss {
  // Returns L over n predictions (double accumulation).
  static double forward(const float* pred, const float* label, int64_t n);
  // grad[i] = scale * dL/dp_i = scale * 2 (p_i - y_i) / n.
  static void backward(const float* pred, const float* label, int64_t n, float scale, float* grad);
};

}  // namespace tandem
