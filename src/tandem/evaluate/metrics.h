// Evaluation metrics, each checked against hand-computed cases in tests.
#pragma once

#include <cstdint>
#include <vector>

namespace tandem {

// Root mean squared error. Empty input is an error. If `weights` is non-null
// it has pred.size() entries and the mean is weighted (sum w*e^2 / sum w).
double rmse(const std::vector<float>& predictions, const std::vector<float>& labels,
            const std::vector<float>* weights = nullptr);

// Factorized top-K accuracy from positive ranks (see positive_ranks): the
// weighted fraction of queries whose rank is < k. `weights` null means 1 each.
// Returns 0 when the total weight is 0.
double topk_accuracy(const std::vector<int64_t>& ranks, int64_t k,
                     const std::vector<float>* weights = nullptr);

}  // namespace tandem
