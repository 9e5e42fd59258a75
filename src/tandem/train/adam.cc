#include "tandem/train/adam.h"

#include <cmath>

#include "tandem/train/l2_gradient.h"

namespace tandem {

AdamStep make_adam_step(float learning_rate, float beta1, float beta2, float epsilon, float l2,
                        int64_t t) {
  const double td = static_cast<double>(t);
  const double correction1 = 1.0 - std::pow(static_cast<double>(beta1), td);
  const double correction2 = 1.0 - std::pow(static_cast<double>(beta2), td);
  AdamStep s;
  s.alpha = static_cast<float>(static_cast<double>(learning_rate) * std::sqrt(correction2) / correction1);
  s.one_minus_beta1 = 1.0f - beta1;
  s.one_minus_beta2 = 1.0f - beta2;
  s.epsilon = epsilon;
  s.l2 = l2;
  return s;
}

void adam_update(const AdamStep& s, float* w, float* m, float* v, const float* g, int64_t n) {
  const float alpha = s.alpha, b1 = s.one_minus_beta1, b2 = s.one_minus_beta2, eps = s.epsilon;
  for_each_gradient(s.l2, w, g, n, [&](int64_t i, float gi) {
    m[i] += (gi - m[i]) * b1;
    v[i] += (gi * gi - v[i]) * b2;
    w[i] -= alpha * m[i] / (std::sqrt(v[i]) + eps);
  });
}

void adam_update_rows(const AdamStep& s, EmbeddingTable& table, std::vector<float>& m,
                      std::vector<float>& v, const RowGradient& grad, int64_t first,
                      int64_t last) {
  const int64_t d = table.dim;
  const auto& rows = grad.rows();
  if (last < 0) last = grad.count();
  for (int64_t r = first; r < last; ++r) {
    const int64_t off = rows[static_cast<size_t>(r)] * d;
    adam_update(s, table.weights.data() + off, m.data() + off, v.data() + off, grad.grad(r), d);
  }
}

}  // namespace tandem
