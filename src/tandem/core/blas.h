// Thin, typed front to CBLAS (OpenBLAS). All matrix products in Tandem go
// through here, row-major, so that call sites read like the maths.
#pragma once

#include <cstdint>
#include <string>

namespace tandem::blas {

// C[m,n] = alpha * op(A) * op(B) + beta * C, row-major.
// op(A) is [m,k]; A is stored [m,k] (trans_a=false) or [k,m] (trans_a=true).
// op(B) is [k,n]; B is stored [k,n] (trans_b=false) or [n,k] (trans_b=true).
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc);

// y[m] = alpha * op(A) * x + beta * y, row-major; A is stored [m,n]
// (trans_a=false, op(A) = A, x has n entries, y has m) or, with trans_a, op(A)
// = Aᵀ ([n] from [m] : x has m entries, y has n). The one-query case of gemm:
// it streams A once without the packing a GEMM does, which dominates when
// there is a single row.
void gemv(bool trans_a, int64_t m, int64_t n, float alpha, const float* a, int64_t lda,
          const float* x, float beta, float* y);

// Precision of a GEMM's operands: float32, or bfloat16 (8 bits of mantissa,
// float's exponent) multiplied into float32 sums (OpenBLAS's sbgemm).
enum class GemmPrecision { kFloat32, kBfloat16 };
std::string to_string(GemmPrecision p);  // "float32", "bfloat16"
GemmPrecision parse_gemm_precision(const std::string& s);

// A bfloat16 value's bits (OpenBLAS's `bfloat16`).
using bfloat16 = uint16_t;

// Whether the loaded OpenBLAS has cblas_sbgemm: only builds made with
// BUILD_BFLOAT16=1 do (Debian's 0.3.21 does not). Looked up at run time, so
// Tandem builds and runs with either; gemm_bf16 throws without it.
bool bf16_available();

// out[i] = x[i] rounded to the nearest bfloat16 (ties to even; NaN stays
// NaN), n values. Needs no library support.
void to_bfloat16(const float* x, int64_t n, bfloat16* out);

// gemm with bfloat16 operands and float32 C (alpha, beta and the sums in
// float32): C[m,n] = alpha * op(A) * op(B) + beta * C, row-major, as gemm.
void gemm_bf16(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
               const bfloat16* a, int64_t lda, const bfloat16* b, int64_t ldb, float beta, float* c,
               int64_t ldc);

// Number of threads the BLAS may use (OpenBLAS); n <= 0 leaves it unchanged.
void set_threads(int n);
int threads();

// The BLAS's thread count set for a scope and given back after it (even on
// an error): kernels that split their own work between threads run the
// BLAS single-threaded inside.
class ScopedThreads {
 public:
  explicit ScopedThreads(int n) : saved_(threads()) { set_threads(n); }
  ~ScopedThreads() { set_threads(saved_); }
  ScopedThreads(const ScopedThreads&) = delete;
  ScopedThreads& operator=(const ScopedThreads&) = delete;

 private:
  int saved_;
};

// The kernel family OpenBLAS selected for this CPU (e.g. "Haswell",
// "SkylakeX"; "Prescott" is its generic fallback for CPUs it does not know).
std::string core_name();

}  // namespace tandem::blas
