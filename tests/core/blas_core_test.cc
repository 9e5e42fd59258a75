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

// Whatever kernels are loaded, GEMMs at the model's kinds of shapes must
// agree with plain loops: this catches a kernel family that computes wrong
// results on this CPU (and is the check tandem runs after choosing one).
TEST(Blas, LoadedKernelsAgreeWithReference) { EXPECT_TRUE(blas_agrees_with_reference()); }

}  // namespace
}  // namespace tandem
