// Mean squared error, the ranking task's loss: L = mean_i (p_i - y_i)^2.
#pragma once

#include <cstdint>

namespace tandem {

struct MseLoss {
  // Returns L over n predictions (double accumulation).
  static double forward(const float* pred, const float* label, int64_t n);
  // grad[i] = scale * dL/dp_i = scale * 2 (p_i - y_i) / n.
  static void backward(const float* pred, const float* label, int64_t n, float scale, float* grad);
  // For one slice of a batch of n_total: writes the slice's gradients of the
  // batch mean (as backward) and returns the slice's sum of squared errors,
  // so workers can each take a slice and the caller divides the sum by n_total.
  static double slice_sum_and_backward(const float* pred, const float* label, int64_t count,
                                       int64_t n_total, float scale, float* grad);
  // The same with a weight per example: sum_i w_i (p_i - y_i)^2, divided by
  // n_total by the caller (Keras' sample_weight with SUM_OVER_BATCH_SIZE).
  static double weighted_slice_sum_and_backward(const float* pred, const float* label,
                                                const float* weight, int64_t count,
                                                int64_t n_total, float scale, float* grad);
};

}  // namespace tandem
