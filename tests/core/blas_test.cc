#include "tandem/core/blas.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "tandem/core/error.h"
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

// ---- bfloat16 ----------------------------------------------------------------

#define SKIP_WITHOUT_BF16()                                                              \
  if (!blas::bf16_available())                                                           \
  GTEST_SKIP() << "the loaded OpenBLAS has no cblas_sbgemm (built without BUILD_BFLOAT16); " \
                  "run with LD_LIBRARY_PATH pointing at one that has"

uint32_t bits_of(float x) {
  uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
float float_of(uint32_t b) {
  float x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}
// The reference rounding: the top 16 bits of the float, rounded to nearest,
// ties to even (finite values).
uint16_t reference_bf16(float x) {
  const uint32_t b = bits_of(x);
  return static_cast<uint16_t>((b + 0x7FFFu + ((b >> 16) & 1u)) >> 16);
}
float widen(uint16_t h) { return float_of(static_cast<uint32_t>(h) << 16); }

TEST(Blas, GemmPrecisionNamesRoundTrip) {
  for (auto p : {blas::GemmPrecision::kFloat32, blas::GemmPrecision::kBfloat16})
    EXPECT_EQ(blas::parse_gemm_precision(blas::to_string(p)), p);
  EXPECT_THROW(blas::parse_gemm_precision("fp16"), Error);
}

TEST(Blas, Bf16RoutinesFailClearlyWhereTheLibraryLacksThem) {
  if (blas::bf16_available()) GTEST_SKIP() << "the loaded OpenBLAS has cblas_sbgemm";
  const float x = 1.0f;
  blas::bfloat16 h = 0;
  float c = 0.0f;
  try {
    blas::gemm_bf16(false, false, 1, 1, 1, 1.0f, &h, 1, &h, 1, 0.0f, &c, 1);
    FAIL() << "gemm_bf16 ran without cblas_sbgemm";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("BUILD_BFLOAT16"), std::string::npos) << e.what();
  }
  blas::to_bfloat16(&x, 1, &h);  // the conversion is Tandem's own
  EXPECT_EQ(h, 0x3F80);
}

TEST(Blas, ToBfloat16RoundsToNearestEven) {
  // 1 + 2^-8 is halfway between 1 and the next bfloat16 (1 + 2^-7): ties go
  // to the even one (1); 1 + 3 * 2^-8 is halfway between 1 + 2^-7 and
  // 1 + 2^-6: to 1 + 2^-6; just above a tie rounds up.
  const std::vector<std::pair<float, uint16_t>> cases = {
      {0.0f, 0x0000},        {-0.0f, 0x8000},           {1.0f, 0x3F80},
      {-2.0f, 0xC000},       {1.00390625f, 0x3F80},     {1.01171875f, 0x3F82},
      {float_of(0x3F808001u), 0x3F81},                  {float_of(0x3F807FFFu), 0x3F80},
      {std::numeric_limits<float>::infinity(), 0x7F80}, {-std::numeric_limits<float>::infinity(), 0xFF80}};
  for (const auto& [x, want] : cases) {
    blas::bfloat16 h = 0x1234;
    blas::to_bfloat16(&x, 1, &h);
    EXPECT_EQ(h, want) << x;
  }
  const float nan = std::numeric_limits<float>::quiet_NaN();
  blas::bfloat16 h = 0;
  blas::to_bfloat16(&nan, 1, &h);
  EXPECT_TRUE(std::isnan(widen(h)));
  // Many random values (more than one vector's worth, and a ragged tail).
  Rng rng(11);
  std::vector<float> x(1003);
  for (auto& v : x) v = rng.uniform(-100, 100) * std::pow(2.0f, static_cast<float>(rng.below(40)) - 20.0f);
  std::vector<blas::bfloat16> out(x.size());
  blas::to_bfloat16(x.data(), static_cast<int64_t>(x.size()), out.data());
  for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(out[i], reference_bf16(x[i])) << x[i];
}

TEST(Blas, GemmBf16IsExactOnSmallIntegers) {
  SKIP_WITHOUT_BF16();
  // Small integers are exact in bfloat16 and their sums in float: sbgemm
  // must agree bit for bit with the float GEMM in every orientation, with
  // alpha, beta and padded leading dimensions.
  Rng rng(7);
  const int64_t m = 37, n = 21, k = 45;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      const int64_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 2;
      const auto a = small_ints(rng, static_cast<size_t>((ta ? k : m) * lda));
      const auto b = small_ints(rng, static_cast<size_t>((tb ? n : k) * ldb));
      std::vector<blas::bfloat16> ah(a.size()), bh(b.size());
      blas::to_bfloat16(a.data(), static_cast<int64_t>(a.size()), ah.data());
      blas::to_bfloat16(b.data(), static_cast<int64_t>(b.size()), bh.data());
      std::vector<float> c = small_ints(rng, static_cast<size_t>(m * ldc)), want = c;
      blas::gemm(ta, tb, m, n, k, 2.0f, a.data(), lda, b.data(), ldb, 0.5f, want.data(), ldc);
      blas::gemm_bf16(ta, tb, m, n, k, 2.0f, ah.data(), lda, bh.data(), ldb, 0.5f, c.data(), ldc);
      EXPECT_EQ(c, want) << "trans_a " << ta << " trans_b " << tb;
    }
  }
}

TEST(Blas, GemmBf16IsTheFloatGemmWithinBf16Rounding) {
  SKIP_WITHOUT_BF16();
  // Random values: the bfloat16 GEMM is, up to float summation, the exact
  // product of the rounded operands, and within bfloat16's rounding (2^-8
  // relative per operand) of the float GEMM.
  Rng rng(8);
  for (const auto& [m, n, k] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 1}, {5, 300, 32}, {256, 64, 513}}) {
    std::vector<float> a(static_cast<size_t>(m * k)), b(static_cast<size_t>(n * k));
    for (auto& v : a) v = rng.uniform(-1, 1);
    for (auto& v : b) v = rng.uniform(-1, 1);
    std::vector<blas::bfloat16> ah(a.size()), bh(b.size());
    blas::to_bfloat16(a.data(), m * k, ah.data());
    blas::to_bfloat16(b.data(), n * k, bh.data());
    std::vector<float> c(static_cast<size_t>(m * n)), cf(c.size());
    blas::gemm_bf16(false, true, m, n, k, 1.0f, ah.data(), k, bh.data(), k, 0.0f, c.data(), n);
    blas::gemm(false, true, m, n, k, 1.0f, a.data(), k, b.data(), k, 0.0f, cf.data(), n);
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double rounded = 0.0, exact = 0.0, magnitude = 0.0;
        for (int64_t t = 0; t < k; ++t) {
          const double x = a[i * k + t], y = b[j * k + t];
          rounded += static_cast<double>(widen(ah[i * k + t])) * widen(bh[j * k + t]);
          exact += x * y;
          magnitude += std::fabs(x * y);
        }
        const double got = c[i * n + j];
        ASSERT_NEAR(got, rounded, 1e-6 * magnitude + 1e-30) << i << "," << j;
        ASSERT_NEAR(got, exact, 2.0 * std::ldexp(1.0, -8) * magnitude) << i << "," << j;
        ASSERT_NEAR(cf[i * n + j], exact, 1e-6 * magnitude) << i << "," << j;
      }
    }
  }
}

}  // namespace
}  // namespace tandem
