// The plain in-batch softmax, written the obvious way, for tests to compare
// RetrievalSoftmaxLoss against; and PlainSoftmax, a test adapter that poses
// per-example vectors to RetrievalSoftmaxLoss's batch entry as the model
// does (full n x n matrix, or distinct rows given the ids).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "tandem/core/blas.h"
#include "tandem/core/thread_pool.h"
#include "tandem/model/retrieval_softmax_loss.h"

namespace tandem::testing {

// Materialises the whole n x n score matrix S = Q C^T, then the softmax,
// then the three products:
//   L = sum_i ( logsumexp_j S_ij - S_ii ),  G = scale (softmax_rows(S) - I),
//   dQ += G C,  dC += G^T Q   (gradients ADDED; skipped when dq is null).
inline double reference_in_batch_softmax(const float* q, const float* c, int64_t n, int64_t d,
                                         float scale, float* dq, float* dc) {
  std::vector<float> s(static_cast<size_t>(n * n));
  blas::gemm(false, true, n, n, d, 1.0f, q, d, c, d, 0.0f, s.data(), n);
  double loss = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    float* row = s.data() + i * n;
    double mx = row[0];
    for (int64_t j = 1; j < n; ++j) mx = std::max(mx, static_cast<double>(row[j]));
    double sum = 0.0;
    for (int64_t j = 0; j < n; ++j) sum += std::exp(row[j] - mx);
    const double lse = mx + std::log(sum);
    loss += lse - row[i];
    for (int64_t j = 0; j < n; ++j) row[j] = static_cast<float>(scale * std::exp(row[j] - lse));
    row[i] -= scale;
  }
  if (dq != nullptr) {
    blas::gemm(false, false, n, d, n, 1.0f, s.data(), n, c, d, 1.0f, dq, d);
    blas::gemm(true, false, n, d, n, 1.0f, s.data(), n, q, d, 1.0f, dc, d);
  }
  return loss;
}

// RetrievalSoftmaxLoss without options on per-example vectors.
class PlainSoftmax {
 public:
  explicit PlainSoftmax(int64_t max_batch, int64_t block_rows = 256, int workers = 1,
                        int64_t id_rows = 0, int64_t max_dim = 64)
      : loss_(max_batch, max_batch, max_batch, block_rows, workers) {
    loss_.prepare_batches(id_rows, id_rows, max_dim);
  }
  // The full n x n matrix; gradients ADDED to dq, dc.
  double forward_backward(const float* q, const float* c, int64_t n, int64_t d, float scale,
                          float* dq, float* dc, ThreadPool* pool = nullptr) {
    return loss_.forward_backward(batch(q, c, n, d, dq, dc, nullptr, nullptr), RetrievalLossOptions{},
                                  scale, false, pool);
  }
  double forward(const float* q, const float* c, int64_t n, int64_t d) {
    std::vector<float> gq(static_cast<size_t>(n * d)), gc(gq.size());
    return forward_backward(q, c, n, d, 1.0f, gq.data(), gc.data());
  }
  // Over the distinct rows of `query_ids` and `item_ids` (below id_rows):
  // each distinct row's gradient lands on its first example.
  double forward_backward_distinct(const float* q, const float* c, int64_t n, int64_t d, float scale,
                                   float* dq, float* dc, const int32_t* query_ids,
                                   const int32_t* item_ids, ThreadPool* pool = nullptr) {
    return loss_.forward_backward(batch(q, c, n, d, dq, dc, query_ids, item_ids), RetrievalLossOptions{},
                                  scale, true, pool);
  }
  int64_t score_rows() const { return loss_.last_score_rows(); }
  int64_t score_cols() const { return loss_.last_score_cols(); }

 private:
  static RetrievalBatch batch(const float* q, const float* c, int64_t n, int64_t d, float* dq,
                              float* dc, const int32_t* query_ids, const int32_t* item_ids) {
    RetrievalBatch b;
    b.queries = q;
    b.items = c;
    b.dq = dq;
    b.dc = dc;
    b.n = n;
    b.d = d;
    b.query_ids = query_ids;
    b.item_ids = item_ids;
    return b;
  }
  RetrievalSoftmaxLoss loss_;
};

}  // namespace tandem::testing
