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
//                    Prescott, use "SkylakeX" on CPUs with AVX-512 F/BW/DQ/VL,
//                    else "Haswell" on CPUs with AVX2 and FMA. An
//                    OPENBLAS_CORETYPE already set is never changed.
//   "keep":          never change anything.
//   any other name:  request that kernel family unless OPENBLAS_CORETYPE is
//                    already set.
// Some OpenBLAS builds compute wrong results with some kernel families on
// some processors, so a chosen family is verified when the program starts
// again: a few GEMMs at the model's kinds of shapes against plain loops. If
// they disagree, AVX-512 falls back to Haswell, and Haswell to the original
// kernels, each with a warning on stderr.
#pragma once

#include <string>

namespace tandem {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool avx512 = false;  // F, BW, DQ and VL: what OpenBLAS's SkylakeX kernels use
};

CpuFeatures detect_cpu_features();

// The kernel family to request given the policy, the current
// OPENBLAS_CORETYPE (empty when unset), the family OpenBLAS selected and the
// CPU; empty when nothing should change.
std::string preferred_blas_core(const std::string& policy, const std::string& coretype_env,
                                const std::string& selected, const CpuFeatures& cpu);

// True when the loaded BLAS computes a handful of GEMMs (transposed and not,
// odd sizes) within float tolerance of plain loops.
bool blas_agrees_with_reference();

// Applies the policy from the environment: re-executes the running program
// (argv as given) with OPENBLAS_CORETYPE set when preferred_blas_core() names
// a family, at most once per process tree. Returns normally when nothing
// changes or re-execution fails.
void reexec_with_preferred_blas_core(char** argv);

}  // namespace tandem
