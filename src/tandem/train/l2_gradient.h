// The gradient an update rule sees under an L2 penalty (l2 / 2) x |w|^2:
// g + l2 x w, with w the value before the step. With l2 = 0 the rule gets g
// itself (not g + 0 x w, which differs in the sign of a zero and turns an
// infinite weight into NaN), so a rule without a penalty is unchanged bit for
// bit.
#pragma once

#include <cstdint>

namespace tandem {

// Calls rule(i, gradient_i) for i in [0, n).
template <typename Rule>
inline void for_each_gradient(float l2, const float* w, const float* g, int64_t n, Rule&& rule) {
  if (l2 == 0.0f) {
    for (int64_t i = 0; i < n; ++i) rule(i, g[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) rule(i, g[i] + l2 * w[i]);
  }
}

}  // namespace tandem
