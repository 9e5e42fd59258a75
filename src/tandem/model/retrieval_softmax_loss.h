// The retrieval task's softmax with the options TFRS's Retrieval task and the
// sampled-softmax literature add to the plain in-batch softmax:
//  - temperature T: logits are scores / T;
//  - removal of accidental hits: a candidate column holding the same item as
//    an example's positive (another copy of it) is masked out of that
//    example's softmax: zero probability, zero gradient;
//  - logQ correction: each column's logit is lowered by log q_j, the expected
//    number of times its item is among the candidates under the sampler that
//    put it there (Yi et al. 2019, "Sampling-bias-corrected neural modeling");
//    without it, popular items are over-penalised as negatives;
//  - hard negatives: each example keeps only its k highest-scoring negatives;
//  - extra columns: candidates that are nobody's positive (mixed negatives
//    sampled from the whole catalogue, Yang et al. 2020);
//  - a weight per example (its loss and gradient are scaled by it).
// The order is TFRS's (tasks/retrieval.py): scores / T, minus log q, hit
// removal, then hard-negative selection on those logits.
//
// The problem is posed over DISTINCT queries and candidate columns, like
// InBatchSoftmaxLoss::forward_backward_distinct: a column that occurs w times
// in the batch enters each softmax with weight w (log w added to its logit),
// which is exactly the batch x batch softmax with every copy as its own column.
// For example i with query u and positive column p:
//   l_ij   = S_uj / T - corr_j + log w_ij      (S = Q C^T)
//   w_ij   = column j's multiplicity; for j = p with hit removal 1 (the other
//            copies are masked); 0 (masked) for other columns of p's item
//            with hit removal
//   loss_i = weight_i * ( logsumexp_j l_ij - (S_up / T - corr_p) )
//
// Hard negatives (k > 0) are TFRS's HardNegativeMining (layers/loss.py):
// top_k(logits + labels * big, k + 1) over the row's batch x batch columns,
// so copies count one by one. Example i's negatives are the copies of every
// column other than its own label column: w_j copies of column j != p, and
// w_p - 1 of p itself (other copies of the positive item) unless hit removal
// masks them, as it masks other columns of p's item. The k highest logits
// among these copies are kept: w_ij becomes the number of column j's copies
// kept (the cut can fall inside a column's copies; which copies it keeps
// does not matter, they are equal), plus 1 for the label column at j = p;
// every negative is kept when there are at most k.
// column_log_weight must then be the log of an integer multiplicity.
//
// Scores are computed a block of query rows at a time (one GEMM), so memory is
// O(workers x block x columns).
#pragma once

#include <cstdint>
#include <vector>

#include "tandem/core/thread_pool.h"

namespace tandem {

struct RetrievalLossOptions {
  float temperature = 1.0f;
  bool remove_accidental_hits = false;
  bool logq_correction = false;
  int64_t hard_negatives = 0;   // 0: every negative column
  int64_t mixed_negatives = 0;  // extra catalogue items sampled per batch (uniformly)

  // False for the tutorials' plain in-batch softmax.
  bool any() const {
    return temperature != 1.0f || remove_accidental_hits || logq_correction ||
           hard_negatives > 0 || mixed_negatives > 0;
  }
};

// One step's problem; pointers are the caller's, valid for the call.
struct RetrievalProblem {
  const float* queries = nullptr;  // [num_queries, d]
  const float* columns = nullptr;  // [num_columns, d]
  int64_t num_queries = 0, num_columns = 0, d = 0;
  int64_t num_examples = 0;
  const int32_t* example_query = nullptr;     // [n] query row of each example
  const int32_t* example_positive = nullptr;  // [n] column of its positive
  const float* example_weight = nullptr;      // [n], or null for all 1
  const float* column_log_weight = nullptr;   // [num_columns] log multiplicity, or null for 0
  const float* column_correction = nullptr;   // [num_columns] subtracted, or null for 0
  // [num_columns] item of each column: columns of equal item are copies
  // (needed only with remove_accidental_hits).
  const int32_t* column_item = nullptr;
};

class RetrievalSoftmaxLoss {
 public:
  // Capacities: queries, columns and examples per step; workers as used with a pool.
  RetrievalSoftmaxLoss(int64_t max_queries, int64_t max_columns, int64_t max_examples,
                       int64_t block_rows = 256, int workers = 1);

  // Returns sum_i loss_i. Writes (overwrites) scale * dLoss/dQ into dq
  // [num_queries, d] and scale * dLoss/dC into dc [num_columns, d].
  double forward_backward(const RetrievalProblem& p, const RetrievalLossOptions& opt, float scale,
                          float* dq, float* dc, ThreadPool* pool = nullptr);

  // Each example's probability over the columns ([n, num_columns], row-major)
  // as the last forward_backward computed it; kept only when asked for with
  // keep_probabilities (tests, diagnostics).
  void keep_probabilities(bool on) { keep_probabilities_ = on; }
  const std::vector<float>& probabilities() const { return probabilities_; }

  int64_t scratch_bytes() const;

 private:
  double run_queries(const RetrievalProblem& p, const RetrievalLossOptions& opt, float scale,
                     float* dq, float* dc, int64_t q_begin, int64_t q_end, int worker);

  int64_t max_queries_, max_columns_, max_examples_, block_rows_;
  int workers_;
  // Examples grouped by query (counting sort): offsets [max_queries + 1].
  std::vector<int32_t> by_query_, query_offsets_;
  // Column j's next column of the same item (a ring), for masking copies.
  std::vector<int32_t> next_copy_;
  std::vector<int32_t> first_column_of_item_;  // grown to the largest item seen; -1 = none
  struct WorkerScratch {
    std::vector<float> scores;  // [block_rows, max_columns]: logits, then dS
    std::vector<float> exps;    // [max_columns]
    std::vector<float> dlogit;  // [max_columns]
    std::vector<int32_t> order;  // [max_columns] for hard-negative selection
    std::vector<float> kept;     // [max_columns] copies kept of each selected column
    std::vector<float> dc;      // [max_columns, d] (worker 0 writes the caller's dc)
  };
  std::vector<WorkerScratch> scratch_;
  std::vector<double> worker_losses_;
  bool keep_probabilities_ = false;
  std::vector<float> probabilities_;
};

}  // namespace tandem
