// Evaluation metrics, each checked against hand-computed cases in tests.
#pragma once

#include <cstdint>
#include <vector>

namespace tandem {

// Root mean squared error. Empty input is an error. If `weights` is non-null
// it has pred.size() entries and the mean is weighted (sum w*e^2 / sum w).
// Errors: size mismatch, empty input, a weight that is negative or not finite,
// total weight 0. Accumulated in double; a NaN prediction or label gives NaN.
double rmse(const std::vector<float>& predictions, const std::vector<float>& labels,
            const std::vector<float>* weights = nullptr);

// Factorized top-K accuracy from positive ranks (see positive_ranks): the
// weighted fraction of queries whose rank is < k. `weights` null means 1 each.
// Returns 0 when the total weight is 0 (including no ranks). Errors: k <= 0,
// weights size != ranks size, a negative or non-finite weight, a negative rank.
double topk_accuracy(const std::vector<int64_t>& ranks, int64_t k,
                     const std::vector<float>* weights = nullptr);

// A binary task's predictions (logits z_i; P = sigmoid(z_i)) against 0/1
// labels y_i:
//   log_loss      mean_i ( softplus(z_i) - y_i z_i )  (natural log)
//   accuracy      fraction with (z_i >= 0) == y_i     (P >= 0.5 predicts 1)
//   positive_rate mean_i y_i
//   auc           the ROC AUC of z (ties count 1/2); NaN without both classes
// Errors: size mismatch, empty input, a label other than 0 or 1.
struct BinaryMetrics {
  double auc = 0.0, log_loss = 0.0, accuracy = 0.0, positive_rate = 0.0;
  int64_t count = 0;
};
BinaryMetrics binary_metrics(const std::vector<float>& logits, const std::vector<int>& labels);

}  // namespace tandem
