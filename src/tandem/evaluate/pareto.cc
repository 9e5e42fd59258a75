#include "tandem/evaluate/pareto.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tandem {

namespace {
bool finite(const TradeOffPoint& p) { return std::isfinite(p.accuracy) && std::isfinite(p.rmse); }
}  // namespace

bool dominates(const TradeOffPoint& a, const TradeOffPoint& b) {
  if (!finite(a) || !finite(b)) return false;
  const bool no_worse = a.accuracy >= b.accuracy && a.rmse <= b.rmse;
  const bool better = a.accuracy > b.accuracy || a.rmse < b.rmse;
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
  double acc_lo = std::numeric_limits<double>::infinity(), acc_hi = -acc_lo;
  double rmse_lo = acc_lo, rmse_hi = -acc_lo;
  for (const auto& p : points) {
    if (!finite(p)) continue;
    acc_lo = std::min(acc_lo, p.accuracy);
    acc_hi = std::max(acc_hi, p.accuracy);
    rmse_lo = std::min(rmse_lo, p.rmse);
    rmse_hi = std::max(rmse_hi, p.rmse);
  }
  // A metric that does not vary cannot tell points apart: its distance is 0.
  auto scaled = [](double v, double best, double worst) {
    return worst == best ? 0.0 : (v - best) / (worst - best);
  };
  const std::vector<bool> on = pareto_front(points);
  std::optional<size_t> best;
  double best_distance = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < points.size(); ++i) {
    if (!on[i]) continue;
    const double da = scaled(points[i].accuracy, acc_hi, acc_lo);
    const double dr = scaled(points[i].rmse, rmse_lo, rmse_hi);
    const double distance = std::hypot(da, dr);
    if (distance < best_distance) {
      best_distance = distance;
      best = i;
    }
  }
  return best;
}

}  // namespace tandem
