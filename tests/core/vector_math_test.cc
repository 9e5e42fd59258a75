#include "tandem/core/vector_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace tandem {
namespace {

TEST(ExpApprox, RelativeErrorBelow3e7OverTheUsedRange) {
  double worst = 0.0;
  for (float x = -80.0f; x <= 80.0f; x += 0.001953125f) {
    const double exact = std::exp(static_cast<double>(x));
    const double rel = std::fabs(exp_approx(x) - exact) / exact;
    worst = std::max(worst, rel);
  }
  EXPECT_LT(worst, 3e-7);
}

TEST(ExpApprox, ExactAtZeroAndClampsExtremes) {
  EXPECT_EQ(exp_approx(0.0f), 1.0f);
  EXPECT_GT(exp_approx(-1000.0f), 0.0f);
  EXPECT_LT(exp_approx(-1000.0f), 1e-37f);
  EXPECT_TRUE(std::isfinite(exp_approx(1000.0f)));
}

TEST(ExpShiftedSum, MatchesScalarReference) {
  std::vector<float> x(1003);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i)) * 7.0f;
  std::vector<float> y = x;
  const double sum = exp_shifted_sum(y.data(), static_cast<int64_t>(y.size()), 7.0f);
  double ref = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double e = std::exp(static_cast<double>(x[i] - 7.0f));  // same float shift
    EXPECT_NEAR(y[i], e, 3e-7 * e + 1e-30) << i;
    ref += e;
  }
  EXPECT_NEAR(sum, ref, 1e-5 * ref);
}

TEST(MaxValue, MatchesScalarMaxForEveryLengthAndPosition) {
  for (int64_t n = 1; n <= 40; ++n) {
    for (int64_t pos = 0; pos < n; ++pos) {
      std::vector<float> x(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) x[i] = -static_cast<float>((i * 7) % 11) - 1.0f;
      x[pos] = 3.5f;
      ASSERT_EQ(max_value(x.data(), n), 3.5f) << n << " " << pos;
    }
  }
}

}  // namespace
}  // namespace tandem

namespace tandem {
namespace {

// A NaN (a diverged loss) must come out NaN, so the trainer's guard sees it,
// and must not reach the float-to-int conversion (undefined behaviour, which
// the sanitizer build reports).
TEST(ExpApprox, NaNPropagates) {
  EXPECT_TRUE(std::isnan(exp_approx(std::nanf(""))));
  float x[3] = {0.0f, std::nanf(""), 1.0f};
  EXPECT_TRUE(std::isnan(exp_shifted_sum(x, 3, 1.0f)));
}

}  // namespace
}  // namespace tandem
