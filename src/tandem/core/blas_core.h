// Choosing OpenBLAS's kernels on CPUs it does not recognise.
//
// OpenBLAS 0.3.21 (Debian 12) picks its kernel family when the library is
// loaded, from the CPU model number. On CPUs newer than the build (e.g. recent
// Xeons) it falls back to its generic "Prescott" SSE3 kernels, about 2.5x
// slower than its AVX2 "Haswell" kernels on the same machine. The only way to
// choose is the OPENBLAS_CORETYPE environment variable, read at load time, so
// the tandem program re-executes itself once with it set.
//
// Policy (TANDEM_BLAS_CORE):
//   unset or "auto": if OPENBLAS_CORETYPE is unset and OpenBLAS fell back to
//                    Prescott on a CPU with AVX2 and FMA, use "Haswell".
//                    An OPENBLAS_CORETYPE already set is never changed.
//   "keep":          never change anything.
//   any other name:  request that kernel family (e.g. "SkylakeX") unless
//                    OPENBLAS_CORETYPE is already set.
// AVX-512 kernels are not chosen automatically: some OpenBLAS builds compute
// wrong results with them on some processors; ask for them by name.
#pragma once

#include <string>

namespace tandem {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
};

CpuFeatures detect_cpu_features();

// The kernel family to request given the policy, the current
// OPENBLAS_CORETYPE (empty when unset), the family OpenBLAS selected and the
// CPU; empty when nothing should change.
std::string preferred_blas_core(const std::string& policy, const std::string& coretype_env,
                                const std::string& selected, const CpuFeatures& cpu);

// Applies the policy from the environment: re-executes the running program
// (argv as given) with OPENBLAS_CORETYPE set when preferred_blas_core() names
// a family, at most once per process tree. Returns normally when nothing
// changes or re-execution fails.
void reexec_with_preferred_blas_core(char** argv);

}  // namespace tandem
