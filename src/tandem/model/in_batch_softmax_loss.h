// In-batch softmax cross-entropy, the retrieval task's loss (TFRS Retrieval,
// Keras CategoricalCrossentropy(from_logits=True, reduction="sum") with
// eye(batch) labels):
//   S = Q C^T            (Q: query/user embeddings [n, d]; C: candidates [n, d])
//   L = sum_i ( logsumexp_j S_ij - S_ii )
// The score matrix is never held whole: it is computed a block of rows at a
// time (one GEMM per block). A block holds complete rows, so each row's
// log-sum-exp is exact in one pass, and the gradient is formed from the same
// block while it is in cache:
//   G = softmax_rows(S) - I,  dQ = G C,  dC = G^T Q.
// Memory for the loss is O(workers x block x n), never n x n. With a thread
// pool the rows are split into one contiguous range per worker, each worker
// accumulating its own dC; the parts are summed in worker order, so results
// are deterministic for a fixed worker count.
#pragma once

#include <cstdint>
#include <vector>

#include "tandem/core/thread_pool.h"
#include "tandem/model/row_dedup.h"

namespace tandem {

class InBatchSoftmaxLoss {
 public:
  // max_batch bounds n; block_rows bounds each worker's scratch
  // ([block_rows, max_batch]); workers is the thread count it will be run with.
  InBatchSoftmaxLoss(int64_t max_batch, int64_t block_rows = 256, int workers = 1);

  // Loss only.
  double forward(const float* q, const float* c, int64_t n, int64_t d);
  // Loss, and gradients scaled by `scale` ADDED to dq and dc ([n, d] each).
  // `pool` (optional) must have the worker count given at construction.
  double forward_backward(const float* q, const float* c, int64_t n, int64_t d, float scale,
                          float* dq, float* dc, ThreadPool* pool = nullptr);

  // The same loss and the same per-row gradient sums, computed over the
  // batch's DISTINCT queries and candidates. A candidate that occurs w times
  // in the batch is one column with weight w (w e^s in the softmax), and a
  // query that occurs k times is one row whose loss counts k times; the
  // positive terms stay per example. This is exact, not an approximation:
  // duplicate queries give identical score rows and duplicate candidates
  // identical columns. The gradient for a distinct query (candidate) is added
  // to the slot of its first example in dq (dc), where per-row sums are all
  // that is used (see RowGradient). Cost O(U x V x d) instead of O(n^2 d).
  double forward_backward_distinct(const float* q, const float* c, int64_t n, int64_t d,
                                   float scale, float* dq, float* dc, const RowDedup& queries,
                                   const RowDedup& candidates, ThreadPool* pool = nullptr);

  // Bytes of scratch this loss holds (for memory reports).
  int64_t scratch_bytes() const;

 private:
  double run_rows(const float* q, const float* c, int64_t n, int64_t d, float scale, float* dq,
                  float* dc, int64_t r_begin, int64_t r_end, float* scores);
  int64_t max_batch_, block_rows_;
  int workers_;
  std::vector<std::vector<float>> scores_;   // per worker [block_rows, max_batch]
  std::vector<std::vector<float>> partial_dc_;  // per worker >= 1 [max_batch, d], lazily sized
  std::vector<double> worker_losses_;
  // Distinct-rows path: compact queries/candidates, log-weights, dQ per
  // distinct query, dC per distinct candidate.
  std::vector<float> uq_, uc_, log_weight_, dqu_, dcv_;
};

// The plain reference: materialises the whole n x n score matrix, then
// softmax, then the three products. Kept for tests and for the memory
// comparison in `tandem bench`. Gradients are ADDED to dq and dc.
double reference_in_batch_softmax(const float* q, const float* c, int64_t n, int64_t d,
                                  float scale, float* dq, float* dc);

}  // namespace tandem
