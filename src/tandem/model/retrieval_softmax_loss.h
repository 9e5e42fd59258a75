// The retrieval task's softmax: the in-batch softmax cross-entropy (TFRS
// Retrieval, Keras CategoricalCrossentropy(from_logits=True,
// reduction="sum") with eye(batch) labels)
//   S = Q C^T,  L = sum_i ( logsumexp_j S_ij - S_ii )
// with the options TFRS's Retrieval task and the sampled-softmax literature
// add to it:
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
// The problem is posed over DISTINCT queries and candidate columns: a column
// that occurs w times in the batch enters each softmax with weight w (log w
// added to its logit), which is exactly the batch x batch softmax with every
// copy as its own column, and a query that occurs k times is one row whose
// loss counts k times. This is exact, not an approximation: duplicate queries
// give identical score rows and duplicate candidates identical columns.
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
// O(workers x block x columns), never n x n. A block holds complete rows, so
// each row's log-sum-exp is exact in one pass, and the gradient is formed
// from the same block while it is in cache. With a thread pool the rows are
// split into one contiguous range per worker, each accumulating its own dC;
// the parts are summed in worker order, so results are deterministic for a
// fixed worker count.
//
// forward_backward(RetrievalBatch) is the one entry for a training step: it
// finds the batch's distinct queries and columns (RowDedup), gathers them,
// sets each column's log-multiplicity and logQ correction, and runs
//  - without options or example weights, a fast kernel for the plain softmax
//    over distinct rows (or, asked for, over the full n x n matrix);
//  - otherwise the general kernel over the RetrievalProblem it built.
#pragma once

#include <cstdint>
#include <vector>

#include "tandem/core/blas.h"
#include "tandem/core/thread_pool.h"
#include "tandem/model/footprint.h"
#include "tandem/model/row_dedup.h"
#include "tandem/model/step_profile.h"

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

// One training step's batch as the model holds it: a vector per example (the
// loss finds the distinct ones itself); pointers are the caller's.
struct RetrievalBatch {
  const float* queries = nullptr;  // [n, d] each example's query (user) vector
  const float* items = nullptr;    // [n + sampled, d] each example's positive, then the sampled negatives
  // Gradients, scaled: ADDED to dq [n, d] and to dc's first n rows; the
  // sampled negatives' rows of dc are overwritten.
  float* dq = nullptr;
  float* dc = nullptr;
  int64_t n = 0, d = 0, sampled = 0;
  // [n] equal ids have equal query vectors (user rows); null: every example
  // is its own query (a per-example feature makes them differ).
  const int32_t* query_ids = nullptr;
  const int32_t* item_ids = nullptr;  // [n + sampled] item rows
  const float* weights = nullptr;     // [n] per-example weights, or null for all 1
  // One rank's part of a batch spread over several (the sharded step): the
  // softmax rows of examples [query_begin, query_begin + query_count) only,
  // over all n + sampled columns. queries, dq, query_ids and weights then
  // hold those examples' rows alone; items, dc and item_ids stay whole, and
  // dc receives this part's share of every column's gradient (the ranks'
  // shares add up to the whole). -1: every example (the default).
  int64_t query_begin = 0, query_count = -1;
};

class RetrievalSoftmaxLoss {
 public:
  // Capacities: queries, columns and examples per step; workers as used with a pool.
  RetrievalSoftmaxLoss(int64_t max_queries, int64_t max_columns, int64_t max_examples,
                       int64_t block_rows = 256, int workers = 1);

  // Readies forward_backward(RetrievalBatch): query ids below query_rows,
  // item ids below item_rows, vectors at most max_dim wide;
  // `item_log_probability` (one per item row) for the logQ correction,
  // `negative_pool_size` the number of items the sampled negatives are drawn
  // from (uniformly). Allocates; call before training.
  void prepare_batches(int64_t query_rows, int64_t item_rows, int64_t max_dim,
                       std::vector<float> item_log_probability = {},
                       int64_t negative_pool_size = 0);
  // One step: the summed loss; gradients as RetrievalBatch says. The full
  // n x n matrix instead of distinct rows when !distinct_rows (plain
  // softmax only) or when every example is its own query.
  double forward_backward(const RetrievalBatch& b, const RetrievalLossOptions& opt, float scale,
                          bool distinct_rows = true, ThreadPool* pool = nullptr);
  // Precision of the score GEMMs: the forward S = Q C^T and both gradient
  // GEMMs (dQ = G C, dC = G^T Q); the softmax itself stays in float32/double.
  // bfloat16 rounds Q, C and G to bfloat16 (float32 sums) and needs
  // blas::bf16_available(). Allocates the bfloat16 copies (sized by
  // prepare_batches' max_dim when it was called first); call before training.
  void set_precision(blas::GemmPrecision precision);
  blas::GemmPrecision precision() const { return precision_; }

  // The score matrix the last batch computed (what its GEMM FLOPs scale with).
  int64_t last_score_rows() const { return score_rows_; }
  int64_t last_score_cols() const { return score_cols_; }

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

  // What one built with these capacities and then readied by
  // prepare_batches(query_rows, item_rows, max_dim) allocates (footprint.h;
  // the item log-probabilities it is handed are input, not counted), and
  // what this one holds of the same buffers.
  static Footprint footprint(int64_t max_queries, int64_t max_columns, int64_t max_examples,
                             int64_t block_rows, int workers, int64_t query_rows, int64_t item_rows,
                             int64_t max_dim,
                             blas::GemmPrecision precision = blas::GemmPrecision::kFloat32);
  Footprint allocated() const;
  // What its first steps add: each worker after the first a private dC
  // [max_columns, max_dim], and the item -> column map of hit removal.
  static int64_t growth_bytes(int64_t max_columns, int64_t max_dim, int workers, int64_t item_rows);

  // The reductions of the workers' partial gradients add their time to
  // `profile`'s reduce phase (null: not recorded).
  void set_profile(StepProfile* profile) { profile_ = profile; }

 private:
  struct GemmOperands;
  double run_queries(const RetrievalProblem& p, const GemmOperands& operands,
                     const RetrievalLossOptions& opt, float scale, float* dq, float* dc,
                     int64_t q_begin, int64_t q_end, int worker);
  // The batch's distinct queries and columns (then the sampled ones) into
  // queries_, columns_, with each column's item and log-multiplicity.
  void compact(const RetrievalBatch& b, RowDedup& queries);
  // The plain softmax over the compacted rows (no options, no weights).
  double plain_distinct(const RetrievalBatch& b, const RowDedup& queries, float scale,
                        ThreadPool* pool);
  // The plain softmax over the full n x n matrix of per-example vectors.
  // Rows [row0, row0 + rows) of it: q and dq hold those rows alone.
  double full_matrix(const float* q, int64_t row0, int64_t rows, const float* c, int64_t n, int64_t d,
                     float scale, float* dq, float* dc, ThreadPool* pool);
  // Its rows [r_begin, r_end) (of q) with worker `worker`'s scratch; row r's
  // positive is column row0 + r.
  double full_matrix_rows(const GemmOperands& operands, int64_t row0, float scale, float* dq,
                          float* dc, int64_t r_begin, int64_t r_end, int worker);
  // Worker w's private dC buffer of at least `floats` (w >= 1).
  float* worker_dc(int w, size_t floats);

  // One step's GEMM operands: the queries [nq, d] and columns [nc, d], and
  // under bfloat16 their bfloat16 copies.
  struct GemmOperands {
    const float* q = nullptr;
    const float* c = nullptr;
    const blas::bfloat16* qb = nullptr;
    const blas::bfloat16* cb = nullptr;
    int64_t nc = 0, d = 0;
  };
  // Converts the operands under bfloat16 (once per step, before the workers
  // start; grows the copies only past set_precision's capacity).
  GemmOperands gemm_operands(const float* q, int64_t nq, const float* c, int64_t nc, int64_t d);
  // s[rows, nc] = Q[r0 .. r0 + rows) C^T.
  void score_gemm(const GemmOperands& o, int64_t r0, int64_t rows, float* s) const;
  // From the block's dS in s: dq[r0 .. r0 + rows) = dS C + dq_beta * dq, and
  // dc += dS^T Q[r0 .. r0 + rows). `worker`'s bfloat16 block holds dS
  // under bfloat16.
  void gradient_gemms(const GemmOperands& o, int64_t r0, int64_t rows, const float* s, float* dq,
                      float dq_beta, float* dc, int worker);

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
    std::vector<blas::bfloat16> scores_bf16;  // [block_rows, max_columns] under bfloat16
  };
  std::vector<WorkerScratch> scratch_;
  std::vector<double> worker_losses_;
  bool keep_probabilities_ = false;
  std::vector<float> probabilities_;

  // forward_backward(RetrievalBatch)'s state (prepare_batches sizes it).
  RowDedup query_dedup_, item_dedup_;
  // Without query ids every example is its own query: example_dedup_ over
  // example_ids_ (0, 1, ..., max_examples - 1).
  RowDedup example_dedup_;
  std::vector<int32_t> example_ids_;
  std::vector<float> item_log_probability_;
  int64_t negative_pool_size_ = 0;
  // Compacted rows: distinct queries [max_queries, d], columns [max_columns,
  // d], per column its item, log-multiplicity and correction; the gradients
  // of both.
  std::vector<float> queries_, columns_, column_log_weight_, column_correction_, dq_distinct_,
      dc_columns_;
  std::vector<int32_t> column_item_;
  int64_t score_rows_ = 0, score_cols_ = 0;
  StepProfile* profile_ = nullptr;
  // The score GEMMs' precision and, under bfloat16, the step's queries and
  // columns as bfloat16.
  blas::GemmPrecision precision_ = blas::GemmPrecision::kFloat32;
  int64_t max_dim_ = 0;  // prepare_batches' width (0: not called)
  std::vector<blas::bfloat16> queries_bf16_, columns_bf16_;
};

}  // namespace tandem
