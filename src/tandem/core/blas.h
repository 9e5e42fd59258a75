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

// Number of threads the BLAS may use (OpenBLAS); n <= 0 leaves it unchanged.
void set_threads(int n);
int threads();

// The kernel family OpenBLAS selected for this CPU (e.g. "Haswell",
// "SkylakeX"; "Prescott" is its generic fallback for CPUs it does not know).
std::string core_name();

}  // namespace tandem::blas
