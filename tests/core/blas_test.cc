#include "tandem/core/blas.h"

#include <gtest/gtest.h>

#include <vector>

#include "tandem/core/random.h"

namespace tandem {
namespace {

// Small integers keep every product and sum exact in float, so BLAS and the
// plain loops must agree bit for bit whatever order the kernel adds in.
std::vector<float> small_ints(Rng& rng, size_t n) {
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(static_cast<int64_t>(rng.below(9)) - 4);
  return v;
}

TEST(Blas, GemvMatchesLoopsBothOrientations) {
  Rng rng(5);
  for (const auto& [m, n] : {std::pair<int64_t, int64_t>{1, 1}, {7, 3}, {33, 64}, {1000, 17}}) {
    const int64_t lda = n + 2;  // a padded leading dimension is honoured
    const auto a = small_ints(rng, static_cast<size_t>(m * lda));
    const auto xn = small_ints(rng, static_cast<size_t>(n));
    const auto xm = small_ints(rng, static_cast<size_t>(m));
    // y = 2 A x + 1 y
    std::vector<float> y = small_ints(rng, static_cast<size_t>(m)), want = y;
    for (int64_t i = 0; i < m; ++i) {
      float acc = 0;
      for (int64_t j = 0; j < n; ++j) acc += a[i * lda + j] * xn[j];
      want[i] = 2 * acc + want[i];
    }
    blas::gemv(false, m, n, 2.0f, a.data(), lda, xn.data(), 1.0f, y.data());
    EXPECT_EQ(y, want) << m << "x" << n;
    // y = Aᵀ x (beta 0 overwrites whatever y held)
    std::vector<float> yt(static_cast<size_t>(n), 123.0f), want_t(static_cast<size_t>(n), 0.0f);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) want_t[j] += a[i * lda + j] * xm[i];
    blas::gemv(true, m, n, 1.0f, a.data(), lda, xm.data(), 0.0f, yt.data());
    EXPECT_EQ(yt, want_t) << m << "x" << n << " transposed";
  }
}

TEST(Blas, GemmMatchesLoops) {
  Rng rng(6);
  const int64_t m = 37, n = 21, k = 13;
  const auto a = small_ints(rng, m * k), b = small_ints(rng, n * k);
  std::vector<float> c(static_cast<size_t>(m * n)), want(c.size(), 0.0f);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t t = 0; t < k; ++t) want[i * n + j] += a[i * k + t] * b[j * k + t];
  blas::gemm(false, true, m, n, k, 1.0f, a.data(), k, b.data(), k, 0.0f, c.data(), n);
  EXPECT_EQ(c, want);
}

}  // namespace
}  // namespace tandem
