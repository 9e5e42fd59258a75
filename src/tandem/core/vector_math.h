// Elementwise kernels written so the compiler vectorises them (no calls into
// libm inside the loop). Used by the softmax losses, whose exp over the
// batch x batch score matrix otherwise dominates a training step.
#pragma once

#include <cstdint>
#include <cstring>

namespace tandem {

// exp(x) for x <= ~88, relative error below 3e-7 (checked against std::exp in
// tests). Inputs below -87.3 are clamped there (result ~1e-38, not 0): the
// callers only feed x - max(x) into it, where such terms are negligible.
inline float exp_approx(float x) {
  x = x < -87.3f ? -87.3f : x;
  x = x > 88.0f ? 88.0f : x;
  const float t = x * 1.44269504088896341f;  // x / ln 2
  // Round to nearest with the 1.5 * 2^23 trick (vectorises, unlike rintf).
  const float n = (t + 12582912.0f) - 12582912.0f;
  // r = x - n ln2 in two parts for accuracy; |r| <= ln2 / 2.
  const float r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-06f;
  // Taylor polynomial of degree 7 on [-0.35, 0.35], Horner form.
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  // Scale by 2^n through the exponent bits. A NaN input left n NaN (the
  // clamps above compare false), and converting NaN to int is undefined: use
  // 0 there instead; p is NaN already, so the result still is.
  const float n_finite = n == n ? n : 0.0f;
  const int32_t bits = (static_cast<int32_t>(n_finite) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// max of x[0..n) (n >= 1). Kept in 16 independent lanes so the compiler
// emits packed max instructions instead of one serial dependency chain.
inline float max_value(const float* x, int64_t n) {
  float lane[16];
  for (int l = 0; l < 16; ++l) lane[l] = x[0];
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int l = 0; l < 16; ++l) lane[l] = x[i + l] > lane[l] ? x[i + l] : lane[l];
  }
  float m = x[0];
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  for (int l = 0; l < 16; ++l) m = lane[l] > m ? lane[l] : m;
  return m;
}

// y[i] = exp(x[i] - shift); returns the sum of y (accumulated in float lanes,
// then double).
inline double exp_shifted_sum(float* x, int64_t n, float shift) {
  float partial[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int l = 0; l < 8; ++l) {
      const float e = exp_approx(x[i + l] - shift);
      x[i + l] = e;
      partial[l] += e;
    }
  }
  double sum = 0.0;
  for (; i < n; ++i) {
    x[i] = exp_approx(x[i] - shift);
    sum += x[i];
  }
  for (float p : partial) sum += p;
  return sum;
}

}  // namespace tandem
