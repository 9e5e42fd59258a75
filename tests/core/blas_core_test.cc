#include "tandem/core/blas_core.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tandem/core/blas.h"

namespace tandem {
namespace {

TEST(PreferredBlasCore, AutoReplacesOnlyTheGenericFallback) {
  const CpuFeatures avx2{true, true, false}, old{false, false, false}, avx512{true, true, true};
  EXPECT_EQ(preferred_blas_core("", "", "Prescott", avx2), "Haswell");
  EXPECT_EQ(preferred_blas_core("", "", "Prescott", avx512), "SkylakeX");
  EXPECT_EQ(preferred_blas_core("auto", "", "Haswell", avx512), "");
  EXPECT_EQ(preferred_blas_core("auto", "", "Prescott", avx2), "Haswell");
  EXPECT_EQ(preferred_blas_core("auto", "", "Prescott", old), "");
  EXPECT_EQ(preferred_blas_core("auto", "", "Haswell", avx2), "");
  EXPECT_EQ(preferred_blas_core("auto", "", "SkylakeX", avx2), "");
}

TEST(PreferredBlasCore, NeverOverridesAnExistingSettingOrKeep) {
  const CpuFeatures avx2{true, true, false};
  EXPECT_EQ(preferred_blas_core("auto", "Haswell", "Prescott", avx2), "");
  EXPECT_EQ(preferred_blas_core("SkylakeX", "Zen", "Prescott", avx2), "");
  EXPECT_EQ(preferred_blas_core("keep", "", "Prescott", avx2), "");
}

TEST(PreferredBlasCore, ExplicitFamilyIsRequested) {
  const CpuFeatures avx2{true, true, false};
  EXPECT_EQ(preferred_blas_core("SkylakeX", "", "Prescott", avx2), "SkylakeX");
  EXPECT_EQ(preferred_blas_core("SkylakeX", "", "SkylakeX", avx2), "");
}

TEST(Blas, LoadedKernelsAgreeWithReference) { EXPECT_TRUE(blas_agrees_with_reference()); }

// Whatever kernels are loaded, a GEMM must agree with plain loops: this
// catches a kernel family that computes wrong results on this CPU.
TEST(Blas, GemmMatchesPlainLoopsOnModelShapes) {
  struct Shape { int64_t m, n, k; bool ta, tb; };
  for (const Shape s : {Shape{37, 29, 32, false, true}, Shape{64, 256, 64, false, false},
                        Shape{128, 64, 300, true, false}, Shape{300, 32, 97, false, false},
                        Shape{5, 1, 128, false, false}}) {
    std::vector<float> a(static_cast<size_t>(s.m * s.k)), b(static_cast<size_t>(s.k * s.n));
    for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>((i * 37) % 17) / 8.0f - 1.0f;
    for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>((i * 11) % 13) / 6.0f - 1.0f;
    std::vector<float> c(static_cast<size_t>(s.m * s.n), 0.5f);
    const int64_t lda = s.ta ? s.m : s.k, ldb = s.tb ? s.k : s.n;
    blas::gemm(s.ta, s.tb, s.m, s.n, s.k, 1.5f, a.data(), lda, b.data(), ldb, 0.25f, c.data(), s.n);
    for (int64_t i = 0; i < s.m; ++i) {
      for (int64_t j = 0; j < s.n; ++j) {
        double acc = 0.0;
        for (int64_t p = 0; p < s.k; ++p) {
          const double av = s.ta ? a[p * lda + i] : a[i * lda + p];
          const double bv = s.tb ? b[j * ldb + p] : b[p * ldb + j];
          acc += av * bv;
        }
        ASSERT_NEAR(c[i * s.n + j], 1.5 * acc + 0.25 * 0.5, 1e-4 * (1.0 + std::fabs(acc)))
            << s.m << "x" << s.n << "x" << s.k << " at " << i << "," << j;
      }
    }
  }
}

}  // namespace
}  // namespace tandem
