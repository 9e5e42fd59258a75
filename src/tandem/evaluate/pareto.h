// The Pareto front of a trade-off between a model's task metrics: top-K
// accuracy (higher is better), RMSE (lower is better) and, with extra tasks,
// each one's AUC (higher is better): the points no other point beats on one
// metric without losing on another.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace tandem {

struct TradeOffPoint {
  double accuracy = 0.0;  // higher is better
  double rmse = 0.0;      // lower is better
  // Further metrics, higher is better: each extra task's AUC, in task order
  // (every point of one front has the same number).
  std::vector<double> more = {};
};

// True when `a` dominates `b`: at least as good on every metric and strictly
// better on one. Equal points do not dominate each other, and a point with a
// NaN metric neither dominates nor is dominated through comparisons with it.
bool dominates(const TradeOffPoint& a, const TradeOffPoint& b);

// Per point: is it on the front (dominated by no other point)? Duplicates of
// a front point are all on the front. Points with a NaN metric are never on
// the front (a failed evaluation is no trade-off).
std::vector<bool> pareto_front(const std::vector<TradeOffPoint>& points);

// Indices of the front's points in the order a chart connects them: by RMSE
// ascending, then accuracy ascending (along the front, both rise together).
std::vector<size_t> front_order(const std::vector<TradeOffPoint>& points);

// The front point closest to the ideal corner (the best value seen of every
// metric) once each metric is scaled to [0, 1] over all points: the
// "balanced" model of a sweep. Ties go to the earlier point; nullopt when no
// point is on the front.
std::optional<size_t> balanced_choice(const std::vector<TradeOffPoint>& points);

}  // namespace tandem
