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

}  // namespace tandem
