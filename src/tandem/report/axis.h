// Axis ticks at "nice" values (1, 2 or 5 times a power of ten), after
// Heckbert, "Nice numbers for graph labels" (Graphics Gems, 1990): the axis
// runs from a tick at or below the data's minimum to one at or above its
// maximum.
#pragma once

#include <string>
#include <vector>

namespace tandem::report {

// The nice number near x > 0: rounded to the nearest of 1, 2, 5, 10 times a
// power of ten when `round`, else the smallest of them that is >= x.
double nice_number(double x, bool round);

struct AxisScale {
  double lo = 0.0, hi = 1.0;  // first and last tick
  double step = 0.2;
  std::vector<double> ticks;  // lo, lo + step, ..., hi
  int decimals = 1;           // enough to tell adjacent ticks apart

  // Position of v along the axis: 0 at lo, 1 at hi.
  double fraction(double v) const { return (v - lo) / (hi - lo); }
  std::string label(double v) const;  // v with `decimals` digits
};

// About `target_ticks` ticks covering [lo, hi] (in either order). An empty
// range is widened (by 10% of the value, or by 1 around 0). `integer`
// keeps the step a whole number (epochs, counts).
AxisScale nice_scale(double lo, double hi, int target_ticks = 5, bool integer = false);

}  // namespace tandem::report
