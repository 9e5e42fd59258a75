#include "tandem/model/in_batch_softmax_loss.h"

#include <algorithm>
#include <cmath>

#include "tandem/core/blas.h"
#include "tandem/core/error.h"
#include "tandem/core/vector_math.h"

namespace tandem {

InBatchSoftmaxLoss::InBatchSoftmaxLoss(int64_t max_batch, int64_t block_rows)
    : max_batch_(max_batch), block_rows_(std::min(block_rows, max_batch)) {
  TANDEM_CHECK(max_batch > 0 && block_rows > 0, "in-batch softmax needs positive sizes");
  scores_.assign(static_cast<size_t>(block_rows_ * max_batch_), 0.0f);
}

double InBatchSoftmaxLoss::forward(const float* q, const float* c, int64_t n, int64_t d) {
  return run(q, c, n, d, 0.0f, nullptr, nullptr);
}

double InBatchSoftmaxLoss::forward_backward(const float* q, const float* c, int64_t n, int64_t d,
                                            float scale, float* dq, float* dc) {
  return run(q, c, n, d, scale, dq, dc);
}

double InBatchSoftmaxLoss::run(const float* q, const float* c, int64_t n, int64_t d, float scale,
                               float* dq, float* dc) {
  TANDEM_CHECK(n <= max_batch_, "batch " << n << " exceeds in-batch softmax capacity " << max_batch_);
  const bool grad = dq != nullptr;
  double loss = 0.0;
  for (int64_t r0 = 0; r0 < n; r0 += block_rows_) {
    const int64_t rows = std::min(block_rows_, n - r0);
    float* s = scores_.data();
    blas::gemm(false, true, rows, n, d, 1.0f, q + r0 * d, d, c, d, 0.0f, s, n);
    for (int64_t i = 0; i < rows; ++i) {
      float* row = s + i * n;
      const int64_t diag = r0 + i;
      const float positive = row[diag];
      float mx = row[0];
      for (int64_t j = 1; j < n; ++j) mx = std::max(mx, row[j]);
      const double sum = exp_shifted_sum(row, n, mx);
      loss += static_cast<double>(mx) + std::log(sum) - static_cast<double>(positive);
      if (grad) {
        const float inv = static_cast<float>(scale / sum);
        for (int64_t j = 0; j < n; ++j) row[j] *= inv;
        row[diag] -= scale;
      }
    }
    if (grad) {
      // dQ[block] = G C ; dC += G^T Q[block].
      blas::gemm(false, false, rows, d, n, 1.0f, s, n, c, d, 0.0f, dq + r0 * d, d);
      blas::gemm(true, false, n, d, rows, 1.0f, s, n, q + r0 * d, d, r0 == 0 ? 0.0f : 1.0f, dc, d);
    }
  }
  return loss;
}

}  // namespace tandem
