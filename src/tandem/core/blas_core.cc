#include "tandem/core/blas_core.h"

#include <unistd.h>

#include <cstdlib>

#include "tandem/core/blas.h"

namespace tandem {

namespace {
constexpr const char* kMarker = "TANDEM_BLAS_CORE_APPLIED";

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}
}  // namespace

CpuFeatures detect_cpu_features() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
#endif
  return f;
}

std::string preferred_blas_core(const std::string& policy, const std::string& coretype_env,
                                const std::string& selected, const CpuFeatures& cpu) {
  if (!coretype_env.empty() || policy == "keep") return "";
  if (policy.empty() || policy == "auto") {
    return selected == "Prescott" && cpu.avx2 && cpu.fma ? "Haswell" : "";
  }
  return policy == selected ? "" : policy;
}

void reexec_with_preferred_blas_core(char** argv) {
  if (!env_or_empty(kMarker).empty()) return;
  const std::string core =
      preferred_blas_core(env_or_empty("TANDEM_BLAS_CORE"), env_or_empty("OPENBLAS_CORETYPE"),
                          blas::core_name(), detect_cpu_features());
  if (core.empty()) return;
  setenv("OPENBLAS_CORETYPE", core.c_str(), 1);
  setenv(kMarker, core.c_str(), 1);
  execv("/proc/self/exe", argv);
  // Could not re-execute: carry on with the kernels already loaded.
  unsetenv("OPENBLAS_CORETYPE");
}

}  // namespace tandem
