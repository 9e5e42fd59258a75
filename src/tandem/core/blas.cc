#include "tandem/core/blas.h"

#include <cblas.h>
#include <dlfcn.h>

#include <cstring>

#include "tandem/core/error.h"

namespace tandem::blas {

namespace {

// The bfloat16 routines, found in whichever OpenBLAS the process loaded.
// cblas.h declares them whatever the build; only the types are taken from it
// here, so nothing links against them.
struct Bf16Routines {
  decltype(&cblas_sbgemm) sbgemm = nullptr;
};

const Bf16Routines& bf16_routines() {
  static const Bf16Routines r = [] {
    Bf16Routines f;
    f.sbgemm = reinterpret_cast<decltype(&cblas_sbgemm)>(dlsym(RTLD_DEFAULT, "cblas_sbgemm"));
    return f;
  }();
  return r;
}

const Bf16Routines& require_bf16(const char* what) {
  const Bf16Routines& r = bf16_routines();
  TANDEM_CHECK(r.sbgemm != nullptr,
               what << ": bfloat16 GEMMs need an OpenBLAS built with BUILD_BFLOAT16=1 (cblas_sbgemm); "
                       "the loaded OpenBLAS ("
                    << core_name() << " kernels) lacks them: use float32");
  return r;
}

}  // namespace

std::string to_string(GemmPrecision p) {
  return p == GemmPrecision::kBfloat16 ? "bfloat16" : "float32";
}

GemmPrecision parse_gemm_precision(const std::string& s) {
  if (s == "float32") return GemmPrecision::kFloat32;
  if (s == "bfloat16") return GemmPrecision::kBfloat16;
  TANDEM_THROW("unknown GEMM precision '" << s << "' (float32 or bfloat16)");
}

bool bf16_available() { return bf16_routines().sbgemm != nullptr; }

void to_bfloat16(const float* x, int64_t n, bfloat16* out) {
  // Our own loop, not cblas_sbstobf16: OpenBLAS 0.3.21's splits any array
  // over 100,000 values between 4 or 16 threads whatever
  // openblas_set_num_threads said, and with the BLAS set to one thread (as
  // training sets it) it spun in exec_blas_async and never returned. Adding
  // 0x7FFF plus the lowest kept bit rounds to nearest even; the loop
  // compiles to vector code.
  for (int64_t i = 0; i < n; ++i) {
    uint32_t b;
    std::memcpy(&b, &x[i], sizeof b);
    const bool nan = (b & 0x7FFFFFFFu) > 0x7F800000u;
    const uint32_t rounded = (b + 0x7FFFu + ((b >> 16) & 1u)) >> 16;
    out[i] = static_cast<bfloat16>(nan ? (b >> 16) | 0x40u : rounded);  // NaN stays a (quiet) NaN
  }
}

void gemm_bf16(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
               const bfloat16* a, int64_t lda, const bfloat16* b, int64_t ldb, float beta, float* c,
               int64_t ldc) {
  const Bf16Routines& r = require_bf16("gemm_bf16");
  if (m == 0 || n == 0) return;
  r.sbgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
           static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
           static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c,
           static_cast<blasint>(ldc));
}

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc) {
  if (m == 0 || n == 0) return;
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<blasint>(m),
              static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
              static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c,
              static_cast<blasint>(ldc));
}

void gemv(bool trans_a, int64_t m, int64_t n, float alpha, const float* a, int64_t lda,
          const float* x, float beta, float* y) {
  if (m == 0 || n == 0) return;
  cblas_sgemv(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, static_cast<blasint>(m),
              static_cast<blasint>(n), alpha, a, static_cast<blasint>(lda), x, 1, beta, y, 1);
}

void set_threads(int n) {
  if (n > 0) openblas_set_num_threads(n);
}

int threads() { return openblas_get_num_threads(); }

std::string core_name() {
  const char* name = openblas_get_corename();
  return name ? name : "unknown";
}

}  // namespace tandem::blas
