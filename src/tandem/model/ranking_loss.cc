#include "tandem/model/ranking_loss.h"

#include <algorithm>
#include <cmath>

#include "tandem/core/error.h"

namespace tandem {

namespace {

struct NamedKind {
  const char* name;
  RankingLossKind kind;
};
constexpr NamedKind kKinds[] = {{"mse", RankingLossKind::kMse},
                                {"bce", RankingLossKind::kBce},
                                {"pairwise-logistic", RankingLossKind::kPairwiseLogistic},
                                {"pairwise-hinge", RankingLossKind::kPairwiseHinge},
                                {"softmax-listwise", RankingLossKind::kSoftmaxListwise}};

// log(1 + e^x) without overflow for large |x|.
double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::fabs(x))); }

double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

double weight_of(const float* weights, int64_t i) { return weights ? weights[i] : 1.0; }

}  // namespace

std::string to_string(RankingLossKind k) {
  for (const auto& e : kKinds)
    if (e.kind == k) return e.name;
  return "mse";
}

RankingLossKind parse_ranking_loss(const std::string& name) {
  for (const auto& e : kKinds)
    if (name == e.name) return e.kind;
  TANDEM_THROW("unknown ranking loss '" << name
                                        << "' (known: mse, bce, pairwise-logistic, pairwise-hinge, "
                                           "softmax-listwise)");
}

std::vector<std::string> ranking_loss_names() {
  std::vector<std::string> v;
  for (const auto& e : kKinds) v.emplace_back(e.name);
  return v;
}

RankingLoss::RankingLoss(int64_t max_batch)
    : max_batch_(max_batch),
      order_(static_cast<size_t>(max_batch)),
      group_start_(static_cast<size_t>(max_batch + 1)),
      acc_(static_cast<size_t>(max_batch)) {
  TANDEM_CHECK(max_batch >= 0, "ranking loss: negative batch capacity " << max_batch);
}

double RankingLoss::forward_backward(const RankingLossSpec& spec, const float* pred,
                                     const float* label, const int32_t* users,
                                     const float* weights, int64_t n, float scale, float* grad) {
  TANDEM_CHECK(n >= 0 && n <= max_batch_,
               "ranking loss: batch of " << n << " examples, built for at most " << max_batch_);
  last_terms_ = 0;
  if (n == 0) return 0.0;
  switch (spec.kind) {
    case RankingLossKind::kMse:
    case RankingLossKind::kBce:
      return pointwise(spec, pred, label, weights, n, scale, grad);
    case RankingLossKind::kPairwiseLogistic:
    case RankingLossKind::kPairwiseHinge:
      TANDEM_CHECK(users != nullptr, "ranking loss " << to_string(spec.kind) << " needs user ids");
      group_by_user(users, n);
      return pairwise(spec, pred, label, weights, n, scale, grad);
    case RankingLossKind::kSoftmaxListwise:
      TANDEM_CHECK(users != nullptr, "ranking loss " << to_string(spec.kind) << " needs user ids");
      group_by_user(users, n);
      return listwise(pred, label, weights, n, scale, grad);
  }
  TANDEM_THROW("ranking loss: unknown kind " << static_cast<int>(spec.kind));
}

void RankingLoss::group_by_user(const int32_t* users, int64_t n) {
  // A sort in place (no allocation), by (user, index) so that the order
  // within a group, and with it every sum below, is the batch's order.
  for (int64_t i = 0; i < n; ++i) order_[static_cast<size_t>(i)] = static_cast<int32_t>(i);
  std::sort(order_.begin(), order_.begin() + n, [users](int32_t a, int32_t b) {
    return users[a] != users[b] ? users[a] < users[b] : a < b;
  });
  group_count_ = 0;
  for (int64_t p = 0; p < n; ++p) {
    if (p == 0 || users[order_[static_cast<size_t>(p)]] != users[order_[static_cast<size_t>(p - 1)]])
      group_start_[static_cast<size_t>(group_count_++)] = static_cast<int32_t>(p);
  }
  group_start_[static_cast<size_t>(group_count_)] = static_cast<int32_t>(n);
}

double RankingLoss::pointwise(const RankingLossSpec& spec, const float* pred, const float* label,
                              const float* weights, int64_t n, float scale, float* grad) {
  const bool bce = spec.kind == RankingLossKind::kBce;
  const double inv_n = 1.0 / static_cast<double>(n);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double s = pred[i], w = weight_of(weights, i);
    double l, dl;
    if (bce) {
      const double t = label[i] >= spec.label_threshold ? 1.0 : 0.0;
      l = softplus(s) - t * s;
      dl = sigmoid(s) - t;
    } else {
      const double e = s - label[i];
      l = e * e;
      dl = 2.0 * e;
    }
    sum += w * l;
    if (grad) grad[i] = static_cast<float>(scale * w * dl * inv_n);
  }
  last_terms_ = n;
  return sum * inv_n;
}

double RankingLoss::pairwise(const RankingLossSpec& spec, const float* pred, const float* label,
                             const float* weights, int64_t n, float scale, float* grad) {
  const bool hinge = spec.kind == RankingLossKind::kPairwiseHinge;
  std::fill_n(acc_.begin(), n, 0.0);
  double sum = 0.0;
  int64_t pairs = 0;
  for (int64_t g = 0; g < group_count_; ++g) {
    const int32_t b = group_start_[static_cast<size_t>(g)], e = group_start_[static_cast<size_t>(g + 1)];
    for (int32_t p = b; p < e; ++p) {
      for (int32_t q = p + 1; q < e; ++q) {
        int32_t hi = order_[static_cast<size_t>(p)], lo = order_[static_cast<size_t>(q)];
        if (label[hi] == label[lo]) continue;  // a tie orders nothing
        if (label[hi] < label[lo]) std::swap(hi, lo);
        const double d = static_cast<double>(pred[hi]) - pred[lo], w = weight_of(weights, hi);
        double l, dl;  // l(d) and dl/dd
        if (hinge) {
          const double slack = spec.margin - d;
          l = slack > 0.0 ? slack : 0.0;
          dl = slack > 0.0 ? -1.0 : 0.0;
        } else {
          l = softplus(-d);
          dl = -sigmoid(-d);
        }
        sum += w * l;
        acc_[static_cast<size_t>(hi)] += w * dl;
        acc_[static_cast<size_t>(lo)] -= w * dl;
        ++pairs;
      }
    }
  }
  last_terms_ = pairs;
  const double inv = pairs > 0 ? 1.0 / static_cast<double>(pairs) : 0.0;
  if (grad)
    for (int64_t i = 0; i < n; ++i) grad[i] = static_cast<float>(scale * acc_[static_cast<size_t>(i)] * inv);
  return sum * inv;
}

double RankingLoss::listwise(const float* pred, const float* label, const float* weights, int64_t n,
                             float scale, float* grad) {
  std::fill_n(acc_.begin(), n, 0.0);
  double sum = 0.0;
  int64_t lists = 0;
  for (int64_t g = 0; g < group_count_; ++g) {
    const int32_t b = group_start_[static_cast<size_t>(g)], e = group_start_[static_cast<size_t>(g + 1)];
    if (e - b < 2) continue;  // one example: L_u = 0 and no gradient, whatever its score
    double gain_sum = 0.0, top = -INFINITY;
    for (int32_t p = b; p < e; ++p) {
      const int32_t i = order_[static_cast<size_t>(p)];
      gain_sum += weight_of(weights, i) * std::max(static_cast<double>(label[i]), 0.0);
      top = std::max(top, static_cast<double>(pred[i]));
    }
    if (!(gain_sum > 0.0)) continue;  // no target distribution
    double z = 0.0;
    for (int32_t p = b; p < e; ++p) z += std::exp(pred[order_[static_cast<size_t>(p)]] - top);
    const double lse = top + std::log(z);
    for (int32_t p = b; p < e; ++p) {
      const int32_t i = order_[static_cast<size_t>(p)];
      const double gain = weight_of(weights, i) * std::max(static_cast<double>(label[i]), 0.0);
      sum += gain * (lse - pred[i]);
      // d/ds_i of sum_k g_k (lse - s_k) = G p_i - g_i.
      acc_[static_cast<size_t>(i)] = gain_sum * std::exp(pred[i] - lse) - gain;
    }
    ++lists;
  }
  last_terms_ = lists;
  const double inv = lists > 0 ? 1.0 / static_cast<double>(lists) : 0.0;
  if (grad)
    for (int64_t i = 0; i < n; ++i) grad[i] = static_cast<float>(scale * acc_[static_cast<size_t>(i)] * inv);
  return sum * inv;
}

Footprint RankingLoss::footprint(int64_t max_batch) {
  // order_ and group_start_ (int32), acc_ (double).
  return {0, 0,
          footprint_add(footprint_add(bytes_of<int32_t>(max_batch), bytes_of<int32_t>(footprint_add(max_batch, 1))),
                        bytes_of<double>(max_batch))};
}

Footprint RankingLoss::allocated() const {
  return {0, 0, bytes_held(order_) + bytes_held(group_start_) + bytes_held(acc_)};
}

}  // namespace tandem
