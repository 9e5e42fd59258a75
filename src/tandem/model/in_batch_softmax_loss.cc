#include "tandem/model/in_batch_softmax_loss.h"

#include <algorithm>
#include <cmath>

#include "tandem/core/blas.h"
#include "tandem/core/error.h"
#include "tandem/model/worker_results.h"
#include "tandem/core/vector_math.h"

namespace tandem {

InBatchSoftmaxLoss::InBatchSoftmaxLoss(int64_t max_batch, int64_t block_rows, int workers)
    : max_batch_(max_batch), block_rows_(std::min(block_rows, max_batch)), workers_(workers) {
  TANDEM_CHECK(max_batch > 0 && block_rows > 0 && workers >= 1,
               "in-batch softmax needs positive sizes");
  scores_.resize(static_cast<size_t>(workers));
  for (auto& s : scores_) s.assign(static_cast<size_t>(block_rows_ * max_batch_), 0.0f);
  partial_dc_.resize(static_cast<size_t>(workers));
  worker_losses_.assign(static_cast<size_t>(workers), 0.0);
}

int64_t InBatchSoftmaxLoss::scratch_bytes() const {
  int64_t b = 0;
  for (const auto& s : scores_) b += static_cast<int64_t>(s.size() * sizeof(float));
  for (const auto& s : partial_dc_) b += static_cast<int64_t>(s.size() * sizeof(float));
  return b;
}

double InBatchSoftmaxLoss::forward(const float* q, const float* c, int64_t n, int64_t d) {
  TANDEM_CHECK(n <= max_batch_, "batch " << n << " exceeds in-batch softmax capacity " << max_batch_);
  return run_rows(q, c, n, d, 0.0f, nullptr, nullptr, 0, n, scores_[0].data());
}

double InBatchSoftmaxLoss::forward_backward(const float* q, const float* c, int64_t n, int64_t d,
                                            float scale, float* dq, float* dc, ThreadPool* pool) {
  TANDEM_CHECK(n <= max_batch_, "batch " << n << " exceeds in-batch softmax capacity " << max_batch_);
  const int workers = pool ? pool->size() : 1;
  TANDEM_CHECK(workers <= workers_, "in-batch softmax built for " << workers_ << " workers, run with "
                                                                  << workers);
  if (workers == 1) return run_rows(q, c, n, d, scale, dq, dc, 0, n, scores_[0].data());
  std::vector<double>& losses = worker_losses_;
  for (int w = 1; w < workers; ++w) {
    auto& p = partial_dc_[static_cast<size_t>(w)];
    if (static_cast<int64_t>(p.size()) < n * d) p.resize(static_cast<size_t>(max_batch_ * d));
  }
  pool->run([&](int w) {
    const Range r = split_range(n, workers, w);
    // Worker 0 adds straight into dc; the others into private buffers.
    float* my_dc = dc;
    if (w > 0) {
      my_dc = partial_dc_[static_cast<size_t>(w)].data();
      std::fill_n(my_dc, n * d, 0.0f);
    }
    losses[static_cast<size_t>(w)] =
        run_rows(q, c, n, d, scale, dq, my_dc, r.begin, r.end, scores_[static_cast<size_t>(w)].data());
  });
  return sum_worker_results(
      losses, workers, [&](int w) { return partial_dc_[static_cast<size_t>(w)].data(); }, dc,
      static_cast<size_t>(n * d));
}

double InBatchSoftmaxLoss::run_rows(const float* q, const float* c, int64_t n, int64_t d,
                                    float scale, float* dq, float* dc, int64_t r_begin,
                                    int64_t r_end, float* s) {
  const bool grad = dq != nullptr;
  double loss = 0.0;
  for (int64_t r0 = r_begin; r0 < r_end; r0 += block_rows_) {
    const int64_t rows = std::min(block_rows_, r_end - r0);
    blas::gemm(false, true, rows, n, d, 1.0f, q + r0 * d, d, c, d, 0.0f, s, n);
    for (int64_t i = 0; i < rows; ++i) {
      float* row = s + i * n;
      const int64_t diag = r0 + i;
      const float positive = row[diag];
      const float mx = max_value(row, n);
      const double sum = exp_shifted_sum(row, n, mx);
      loss += static_cast<double>(mx) + std::log(sum) - static_cast<double>(positive);
      if (grad) {
        const float inv = static_cast<float>(scale / sum);
        for (int64_t j = 0; j < n; ++j) row[j] *= inv;
        row[diag] -= scale;
      }
    }
    if (grad) {
      // dQ[block] += G C ; dC += G^T Q[block].
      blas::gemm(false, false, rows, d, n, 1.0f, s, n, c, d, 1.0f, dq + r0 * d, d);
      blas::gemm(true, false, n, d, rows, 1.0f, s, n, q + r0 * d, d, 1.0f, dc, d);
    }
  }
  return loss;
}

double InBatchSoftmaxLoss::forward_backward_distinct(const float* q, const float* c, int64_t n,
                                                     int64_t d, float scale, float* dq, float* dc,
                                                     const RowDedup& queries,
                                                     const RowDedup& candidates, ThreadPool* pool) {
  TANDEM_CHECK(n <= max_batch_, "batch " << n << " exceeds in-batch softmax capacity " << max_batch_);
  TANDEM_CHECK(static_cast<int64_t>(queries.index().size()) == n &&
                   static_cast<int64_t>(candidates.index().size()) == n,
               "distinct-row maps do not describe this batch");
  const int workers = pool ? pool->size() : 1;
  TANDEM_CHECK(workers <= workers_, "in-batch softmax built for " << workers_ << " workers");
  const int64_t nu = queries.distinct(), nv = candidates.distinct();
  const size_t cap = static_cast<size_t>(max_batch_ * d);
  if (uq_.size() < cap) {
    uq_.resize(cap);
    uc_.resize(cap);
    dqu_.resize(cap);
    dcv_.resize(cap);
    log_weight_.resize(static_cast<size_t>(max_batch_));
  }
  for (int64_t u = 0; u < nu; ++u)
    std::copy_n(q + static_cast<int64_t>(queries.first()[u]) * d, d, uq_.data() + u * d);
  for (int64_t v = 0; v < nv; ++v) {
    std::copy_n(c + static_cast<int64_t>(candidates.first()[v]) * d, d, uc_.data() + v * d);
    log_weight_[static_cast<size_t>(v)] = std::log(candidates.counts()[static_cast<size_t>(v)]);
  }
  const float* counts = queries.counts().data();
  auto work = [&](int w) {
    const Range r = split_range(nu, workers, w);
    float* my_dc = dcv_.data();
    if (w > 0) {
      auto& p = partial_dc_[static_cast<size_t>(w)];
      if (p.size() < cap) p.resize(cap);
      my_dc = p.data();
    }
    std::fill_n(my_dc, nv * d, 0.0f);
    float* s = scores_[static_cast<size_t>(w)].data();
    double loss = 0.0;
    for (int64_t r0 = r.begin; r0 < r.end; r0 += block_rows_) {
      const int64_t rows = std::min(block_rows_, r.end - r0);
      blas::gemm(false, true, rows, nv, d, 1.0f, uq_.data() + r0 * d, d, uc_.data(), d, 0.0f, s, nv);
      for (int64_t i = 0; i < rows; ++i) {
        float* row = s + i * nv;
        for (int64_t j = 0; j < nv; ++j) row[j] += log_weight_[static_cast<size_t>(j)];
        const float mx = max_value(row, nv);
        const double sum = exp_shifted_sum(row, nv, mx);
        const float k = counts[r0 + i];
        loss += static_cast<double>(k) * (static_cast<double>(mx) + std::log(sum));
        const float g = static_cast<float>(scale * k / sum);
        for (int64_t j = 0; j < nv; ++j) row[j] *= g;
      }
      blas::gemm(false, false, rows, d, nv, 1.0f, s, nv, uc_.data(), d, 0.0f, dqu_.data() + r0 * d, d);
      blas::gemm(true, false, nv, d, rows, 1.0f, s, nv, uq_.data() + r0 * d, d, 1.0f, my_dc, d);
    }
    worker_losses_[static_cast<size_t>(w)] = loss;
  };
  if (pool && workers > 1) {
    pool->run(work);
  } else {
    work(0);
  }
  double loss = sum_worker_results(
      worker_losses_, workers, [&](int w) { return partial_dc_[static_cast<size_t>(w)].data(); },
      dcv_.data(), static_cast<size_t>(nv * d));
  // Positive terms, per example: L -= q_i . c_i.
  for (int64_t i = 0; i < n; ++i) {
    const float* qi = q + i * d;
    const float* ci = c + i * d;
    float* dqi = dq + i * d;
    float* dci = dc + i * d;
    double dot = 0.0;
    for (int64_t j = 0; j < d; ++j) {
      dot += static_cast<double>(qi[j]) * ci[j];
      dqi[j] -= scale * ci[j];
      dci[j] -= scale * qi[j];
    }
    loss -= dot;
  }
  add_to_first_examples(queries, dqu_.data(), d, dq);
  add_to_first_examples(candidates, dcv_.data(), d, dc);
  return loss;
}

double reference_in_batch_softmax(const float* q, const float* c, int64_t n, int64_t d,
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

}  // namespace tandem
