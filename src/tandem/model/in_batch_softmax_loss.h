// In-batch softmax cross-entropy, the retrieval task's loss (TFRS Retrieval,
// Keras CategoricalCrossentropy(from_logits=True, reduction="sum") with
// eye(batch) labels):
//   S = Q C^T            (Q: query/user embeddings [n, d]; C: candidates [n, d])
//   L = sum_i ( logsumexp_j S_ij - S_ii )
// The score matrix is computed a block of rows at a time (one GEMM per block),
// so memory is O(block x n), never n x n, and the gradient is formed from the
// same block while it is in cache:
//   G = softmax_rows(S) - I,  dQ = G C,  dC = G^T Q.
#pragma once

#include <cstdint>
#include <vector>

namespace tandem {

class InBatchSoftmaxLoss {
 public:
  // max_batch bounds n; block_rows bounds the scratch ([block_rows, max_batch]).
  explicit InBatchSoftmaxLoss(int64_t max_batch, int64_t block_rows = 256);

  // Loss only.
  double forward(const float* q, const float* c, int64_t n, int64_t d);
  // Loss, and gradients scaled by `scale` written (overwritten) into dq, dc
  // ([n, d] each).
  double forward_backward(const float* q, const float* c, int64_t n, int64_t d, float scale,
                          float* dq, float* dc);

 private:
  double run(const float* q, const float* c, int64_t n, int64_t d, float scale, float* dq,
             float* dc);
  int64_t max_batch_, block_rows_;
  std::vector<float> scores_;  // [block_rows, max_batch]
};

}  // namespace tandem
