// Central finite differences against an analytic gradient.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>

namespace tandem::testing {

// Perturbs each of the n values at `param` by +-h, evaluates `loss` and
// compares (L(+h) - L(-h)) / 2h with analytic[i]. The error allowed is
// atol + rtol * |numeric|. `loss` must recompute from scratch.
inline void expect_gradient_matches(const std::function<double()>& loss, float* param,
                                    const float* analytic, int64_t n, const std::string& what,
                                    float h = 1e-2f, double atol = 2e-3, double rtol = 2e-2) {
  int64_t checked = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float saved = param[i];
    param[i] = saved + h;
    const double up = loss();
    param[i] = saved - h;
    const double down = loss();
    param[i] = saved;
    const double numeric = (up - down) / (2.0 * h);
    EXPECT_NEAR(analytic[i], numeric, atol + rtol * std::fabs(numeric))
        << what << " element " << i;
    ++checked;
  }
  EXPECT_EQ(checked, n);
}

}  // namespace tandem::testing
