#include "tandem/report/axis.h"

#include <algorithm>
#include <cmath>

#include "tandem/core/error.h"
#include "tandem/report/markup.h"

namespace tandem::report {

double nice_number(double x, bool round) {
  TANDEM_CHECK(std::isfinite(x) && x > 0, "nice_number needs a positive finite value, got " << x);
  const double exponent = std::floor(std::log10(x));
  const double power = std::pow(10.0, exponent);
  const double f = x / power;  // in [1, 10)
  double nice;
  if (round) {
    nice = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  } else {
    nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  }
  return nice * power;
}

std::string AxisScale::label(double v) const {
  // Ticks are lo + i * step: snap float noise (0.30000000000000004) to zero.
  if (std::abs(v) < step * 1e-9) v = 0.0;
  return fixed(v, decimals);
}

AxisScale nice_scale(double lo, double hi, int target_ticks, bool integer) {
  TANDEM_CHECK(std::isfinite(lo) && std::isfinite(hi), "axis range must be finite, got [" << lo << ", "
                                                                                        << hi << "]");
  TANDEM_CHECK(target_ticks >= 2, "an axis needs at least 2 ticks, got " << target_ticks);
  if (lo > hi) std::swap(lo, hi);
  if (hi - lo <= std::abs(hi) * 1e-12) {
    const double widen = lo == 0.0 ? 1.0 : std::abs(lo) * 0.1;
    lo -= widen;
    hi += widen;
  }
  AxisScale s;
  const double range = nice_number(hi - lo, false);
  s.step = nice_number(range / (target_ticks - 1), true);
  if (integer) s.step = std::max(1.0, std::round(s.step));
  // The tolerance keeps a bound that is a tick up to rounding (0.3 / 0.1 =
  // 2.9999999999999996) from gaining an extra tick.
  s.lo = std::floor(lo / s.step + 1e-9) * s.step;
  s.hi = std::ceil(hi / s.step - 1e-9) * s.step;
  s.decimals = static_cast<int>(std::max(0.0, -std::floor(std::log10(s.step))));
  const int count = static_cast<int>(std::lround((s.hi - s.lo) / s.step));
  for (int i = 0; i <= count; ++i) s.ticks.push_back(s.lo + i * s.step);
  return s;
}

}  // namespace tandem::report
