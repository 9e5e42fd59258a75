#include "tandem/evaluate/metrics.h"

#include <algorithm>
#include <cmath>

#include "tandem/core/error.h"
#include "tandem/evaluate/ranking_metrics.h"

namespace tandem {

namespace {

// Negative or non-finite weights would make "weighted mean" meaningless and
// would usually come from a bug upstream, so they are refused, not clamped.
void check_weights(const char* fn, const std::vector<float>& w, size_t expected) {
  TANDEM_CHECK(w.size() == expected, fn << ": " << w.size() << " weights for " << expected
                                        << " entries");
  for (size_t i = 0; i < w.size(); ++i) {
    TANDEM_CHECK(std::isfinite(w[i]) && w[i] >= 0.0f,
                 fn << ": weight " << i << " is " << w[i] << ", expected finite and >= 0");
  }
}

}  // namespace

double rmse(const std::vector<float>& predictions, const std::vector<float>& labels,
            const std::vector<float>* weights) {
  TANDEM_CHECK(predictions.size() == labels.size(),
               "rmse: " << predictions.size() << " predictions for " << labels.size()
                        << " labels");
  TANDEM_CHECK(!predictions.empty(), "rmse: no predictions");
  const size_t n = predictions.size();
  double sum = 0.0;
  double total = 0.0;
  if (weights) {
    check_weights("rmse", *weights, n);
    for (size_t i = 0; i < n; ++i) {
      const double e = static_cast<double>(predictions[i]) - static_cast<double>(labels[i]);
      const double w = (*weights)[i];
      sum += w * e * e;
      total += w;
    }
    TANDEM_CHECK(total > 0.0, "rmse: total weight is 0");
  } else {
    for (size_t i = 0; i < n; ++i) {
      const double e = static_cast<double>(predictions[i]) - static_cast<double>(labels[i]);
      sum += e * e;
    }
    total = static_cast<double>(n);
  }
  return std::sqrt(sum / total);
}

double topk_accuracy(const std::vector<int64_t>& ranks, int64_t k,
                     const std::vector<float>* weights) {
  TANDEM_CHECK(k > 0, "topk_accuracy: k must be > 0, got " << k);
  if (weights) check_weights("topk_accuracy", *weights, ranks.size());
  double hits = 0.0;
  double total = 0.0;
  for (size_t i = 0; i < ranks.size(); ++i) {
    // positive_ranks never yields a negative rank; one here means the caller
    // mixed up inputs, and silently counting it as a hit would inflate scores.
    TANDEM_CHECK(ranks[i] >= 0, "topk_accuracy: rank " << i << " is " << ranks[i]);
    const double w = weights ? static_cast<double>((*weights)[i]) : 1.0;
    total += w;
    if (ranks[i] < k) hits += w;
  }
  return total > 0.0 ? hits / total : 0.0;
}

BinaryMetrics binary_metrics(const std::vector<float>& logits, const std::vector<int>& labels) {
  TANDEM_CHECK(logits.size() == labels.size(),
               "binary_metrics: " << logits.size() << " predictions for " << labels.size() << " labels");
  TANDEM_CHECK(!logits.empty(), "binary_metrics: no predictions");
  BinaryMetrics m;
  m.count = static_cast<int64_t>(logits.size());
  double loss = 0.0, correct = 0.0, positives = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) {
    TANDEM_CHECK(labels[i] == 0 || labels[i] == 1,
                 "binary_metrics: label " << labels[i] << " at " << i << " is not 0 or 1");
    const double z = logits[i], y = labels[i];
    loss += std::max(z, 0.0) + std::log1p(std::exp(-std::abs(z))) - y * z;
    correct += ((z >= 0.0) == (labels[i] == 1)) ? 1.0 : 0.0;
    positives += y;
  }
  const double n = static_cast<double>(logits.size());
  m.log_loss = loss / n;
  m.accuracy = correct / n;
  m.positive_rate = positives / n;
  // A NaN prediction (a diverged model) leaves AUC NaN; log loss shows it too.
  const bool nan = std::any_of(logits.begin(), logits.end(), [](float z) { return std::isnan(z); });
  m.auc = nan || positives == 0.0 || positives == n ? std::nan("") : auc(logits, labels);
  return m;
}

}  // namespace tandem
