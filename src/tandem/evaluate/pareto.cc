#include "tandem/evaluate/pareto.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tandem {

namespace {
bool finite(const TradeOffPoint& p) {
  return std::isfinite(p.accuracy) && std::isfinite(p.rmse) &&
         std::all_of(p.more.begin(), p.more.end(), [](double v) { return std::isfinite(v); });
}
}  // namespace

bool dominates(const TradeOffPoint& a, const TradeOffPoint& b) {
  if (!finite(a) || !finite(b)) return false;
  if (a.more.size() != b.more.size()) return false;  // not one trade-off
  bool no_worse = a.accuracy >= b.accuracy && a.rmse <= b.rmse;
  bool better = a.accuracy > b.accuracy || a.rmse < b.rmse;
  for (size_t m = 0; m < a.more.size(); ++m) {
    no_worse = no_worse && a.more[m] >= b.more[m];
    better = better || a.more[m] > b.more[m];
  }
  return no_worse && better;
}

std::vector<bool> pareto_front(const std::vector<TradeOffPoint>& points) {
  // O(n^2): a sweep has a handful of points, and the plain definition is
  // what the tests compare against.
  std::vector<bool> on(points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    on[i] = finite(points[i]) &&
            std::none_of(points.begin(), points.end(),
                         [&](const TradeOffPoint& other) { return dominates(other, points[i]); });
  }
  return on;
}

std::vector<size_t> front_order(const std::vector<TradeOffPoint>& points) {
  const std::vector<bool> on = pareto_front(points);
  std::vector<size_t> idx;
  for (size_t i = 0; i < points.size(); ++i)
    if (on[i]) idx.push_back(i);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    if (points[a].rmse != points[b].rmse) return points[a].rmse < points[b].rmse;
    return points[a].accuracy < points[b].accuracy;
  });
  return idx;
}

std::optional<size_t> balanced_choice(const std::vector<TradeOffPoint>& points) {
  // Every metric as "higher is better" (RMSE negated), then its range.
  const auto metrics = [](const TradeOffPoint& p) {
    std::vector<double> m = {p.accuracy, -p.rmse};
    m.insert(m.end(), p.more.begin(), p.more.end());
    return m;
  };
  std::vector<double> lo, hi;
  for (const auto& p : points) {
    if (!finite(p)) continue;
    const std::vector<double> m = metrics(p);
    if (lo.empty()) {
      lo = hi = m;
      continue;
    }
    for (size_t j = 0; j < m.size() && j < lo.size(); ++j) {
      lo[j] = std::min(lo[j], m[j]);
      hi[j] = std::max(hi[j], m[j]);
    }
  }
  const std::vector<bool> on = pareto_front(points);
  std::optional<size_t> best;
  double best_distance = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < points.size(); ++i) {
    if (!on[i]) continue;
    const std::vector<double> m = metrics(points[i]);
    // Distance to the best value of each metric, scaled by its range; a
    // metric that does not vary cannot tell points apart: 0.
    double sum = 0.0;
    for (size_t j = 0; j < m.size() && j < lo.size(); ++j) {
      const double d = hi[j] == lo[j] ? 0.0 : (hi[j] - m[j]) / (hi[j] - lo[j]);
      sum += d * d;
    }
    const double distance = std::sqrt(sum);
    if (distance < best_distance) {
      best_distance = distance;
      best = i;
    }
  }
  return best;
}

}  // namespace tandem
