#include "tandem/model/mixture_of_experts.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "tandem/core/blas.h"
#include "tandem/core/error.h"

namespace tandem {

namespace {

// a * b + c, or INT64_MAX when that overflows (sizes are never negative).
int64_t mul_add_saturating(int64_t a, int64_t b, int64_t c) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r) || __builtin_add_overflow(r, c, &r))
    return std::numeric_limits<int64_t>::max();
  return r;
}

// Rows of y [n, cols] start as the bias, so that a GEMM with beta = 1 adds
// x W onto them (DenseLayer's fused bias).
void seed_bias(float* y, int64_t n, int64_t cols, const float* bias) {
  for (int64_t i = 0; i < n; ++i) std::copy_n(bias, cols, y + i * cols);
}

void column_sums(const float* x, int64_t n, int64_t cols, float* out) {
  std::fill_n(out, cols, 0.0f);
  for (int64_t i = 0; i < n; ++i) {
    const float* row = x + i * cols;
    for (int64_t j = 0; j < cols; ++j) out[j] += row[j];
  }
}

}  // namespace

std::vector<int64_t> MoeLayout::experts_of(int task) const {
  std::vector<int64_t> e;
  if (kind == MoeKind::kMmoe) {
    for (int64_t i = 0; i < experts; ++i) e.push_back(i);
  } else {
    for (int64_t i = 0; i < shared_experts; ++i) e.push_back(i);
    const int64_t first = shared_experts + task * task_experts;
    for (int64_t i = 0; i < task_experts; ++i) e.push_back(first + i);
  }
  return e;
}

int64_t MoeLayout::total_gate_width() const {
  int64_t w = 0;
  for (int t = 0; t < tasks; ++t) w += gate_width(t);
  return w;
}

int64_t moe_parameter_count(int64_t in, const MoeLayout& l) {
  const int64_t width = mul_add_saturating(l.total_experts(), l.expert_dim, 0);
  const int64_t gates = l.total_gate_width();
  int64_t n = mul_add_saturating(in, width, width);
  return mul_add_saturating(in, gates, mul_add_saturating(gates, 1, n));
}

int64_t moe_workspace_floats(int64_t in, const MoeLayout& l, int64_t max_batch) {
  // h, dh; gates, dlogits; y_t, dy_t per task; the caller's dx is its own.
  (void)in;
  const int64_t per_row = 2 * l.total_experts() * l.expert_dim + 2 * l.total_gate_width() +
                          2 * l.tasks * l.expert_dim;
  return mul_add_saturating(per_row, max_batch, 0);
}

MixtureOfExperts::MixtureOfExperts(int64_t in, const MoeLayout& layout, int64_t max_batch)
    : in_(in), max_batch_(max_batch), layout_(layout) {
  TANDEM_CHECK(in > 0 && max_batch > 0 && layout.tasks > 0 && layout.expert_dim > 0,
               "mixture of experts needs positive sizes, got in=" << in << " max_batch=" << max_batch
                                                                  << " tasks=" << layout.tasks
                                                                  << " expert_dim=" << layout.expert_dim);
  TANDEM_CHECK(layout.kind == MoeKind::kMmoe ? layout.experts > 0
                                             : layout.shared_experts >= 0 && layout.task_experts >= 0,
               "mixture of experts needs a positive expert count");
  for (int t = 0; t < layout.tasks; ++t) {
    experts_of_.push_back(layout.experts_of(t));
    TANDEM_CHECK(!experts_of_.back().empty(), "task " << t << "'s gate has no experts to mix");
  }
  width_ = layout.total_experts() * layout.expert_dim;
  gate_total_ = 0;
  for (const auto& e : experts_of_) {
    gate_offset_.push_back(gate_total_);
    gate_total_ += static_cast<int64_t>(e.size());
  }
  w_.assign(static_cast<size_t>(in * width_), 0.0f);
  b_.assign(static_cast<size_t>(width_), 0.0f);
  gw_.assign(static_cast<size_t>(in * gate_total_), 0.0f);
  gb_.assign(static_cast<size_t>(gate_total_), 0.0f);
  dw_.assign(w_.size(), 0.0f);
  db_.assign(b_.size(), 0.0f);
  dgw_.assign(gw_.size(), 0.0f);
  dgb_.assign(gb_.size(), 0.0f);
  h_.assign(static_cast<size_t>(max_batch * width_), 0.0f);
  dh_.assign(h_.size(), 0.0f);
  gates_.assign(static_cast<size_t>(max_batch * gate_total_), 0.0f);
  dlogits_.assign(gates_.size(), 0.0f);
  y_.assign(static_cast<size_t>(layout.tasks),
            std::vector<float>(static_cast<size_t>(max_batch * layout.expert_dim), 0.0f));
  dy_ = y_;
}

void MixtureOfExperts::init_glorot(Rng& rng) {
  const int64_t de = layout_.expert_dim;
  // Each expert is its own [in, de] Dense layer, stored side by side: Glorot
  // over that layer's fans, not over the fused width.
  const float expert_limit = std::sqrt(6.0f / static_cast<float>(in_ + de));
  for (int64_t e = 0; e < layout_.total_experts(); ++e)
    for (int64_t i = 0; i < in_; ++i)
      for (int64_t j = 0; j < de; ++j) w_[static_cast<size_t>(i * width_ + e * de + j)] = rng.uniform(-expert_limit, expert_limit);
  for (int t = 0; t < layout_.tasks; ++t) {
    const int64_t m = static_cast<int64_t>(experts_of_[static_cast<size_t>(t)].size());
    const float gate_limit = std::sqrt(6.0f / static_cast<float>(in_ + m));
    const int64_t off = gate_offset_[static_cast<size_t>(t)];
    for (int64_t i = 0; i < in_; ++i)
      for (int64_t j = 0; j < m; ++j) gw_[static_cast<size_t>(i * gate_total_ + off + j)] = rng.uniform(-gate_limit, gate_limit);
  }
  std::fill(b_.begin(), b_.end(), 0.0f);
  std::fill(gb_.begin(), gb_.end(), 0.0f);
}

void MixtureOfExperts::compute(const float* x, int64_t n, float* h, float* g) const {
  seed_bias(h, n, width_, b_.data());
  blas::gemm(false, false, n, width_, in_, 1.0f, x, in_, w_.data(), width_, 1.0f, h, width_);
  const int64_t count = n * width_;
  for (int64_t i = 0; i < count; ++i) h[i] = h[i] > 0.0f ? h[i] : 0.0f;
  seed_bias(g, n, gate_total_, gb_.data());
  blas::gemm(false, false, n, gate_total_, in_, 1.0f, x, in_, gw_.data(), gate_total_, 1.0f, g,
             gate_total_);
  // Softmax within each task's block of the row.
  for (int64_t i = 0; i < n; ++i) {
    for (int t = 0; t < layout_.tasks; ++t) {
      float* z = g + i * gate_total_ + gate_offset_[static_cast<size_t>(t)];
      const auto m = static_cast<int64_t>(experts_of_[static_cast<size_t>(t)].size());
      float mx = z[0];
      for (int64_t j = 1; j < m; ++j) mx = std::max(mx, z[j]);
      float sum = 0.0f;
      for (int64_t j = 0; j < m; ++j) {
        z[j] = std::exp(z[j] - mx);
        sum += z[j];
      }
      for (int64_t j = 0; j < m; ++j) z[j] /= sum;
    }
  }
}

void MixtureOfExperts::mix(int task, const float* h, const float* g, int64_t n, float* y) const {
  const int64_t de = layout_.expert_dim;
  const auto& experts = experts_of_[static_cast<size_t>(task)];
  const int64_t off = gate_offset_[static_cast<size_t>(task)];
  for (int64_t i = 0; i < n; ++i) {
    float* out = y + i * de;
    std::fill_n(out, de, 0.0f);
    const float* gate = g + i * gate_total_ + off;
    for (size_t j = 0; j < experts.size(); ++j) {
      const float* he = h + i * width_ + experts[j] * de;
      const float gj = gate[j];
      for (int64_t k = 0; k < de; ++k) out[k] += gj * he[k];
    }
  }
}

void MixtureOfExperts::forward(const float* x, int64_t n) {
  TANDEM_CHECK(n > 0 && n <= max_batch_,
               "mixture of experts: batch of " << n << " rows, built for 1.." << max_batch_);
  compute(x, n, h_.data(), gates_.data());
  for (int t = 0; t < layout_.tasks; ++t) mix(t, h_.data(), gates_.data(), n, y_[static_cast<size_t>(t)].data());
}

void MixtureOfExperts::backward(const float* x, int64_t n, float* dx) {
  TANDEM_CHECK(n > 0 && n <= max_batch_,
               "mixture of experts: batch of " << n << " rows, built for 1.." << max_batch_);
  const int64_t de = layout_.expert_dim;
  std::fill_n(dh_.begin(), n * width_, 0.0f);
  // Through the mixture: dg_tj = dy_t . E_j, dE_j += g_tj dy_t; then through
  // each task's softmax: dz = g (dg - g . dg).
  for (int t = 0; t < layout_.tasks; ++t) {
    const auto& experts = experts_of_[static_cast<size_t>(t)];
    const int64_t off = gate_offset_[static_cast<size_t>(t)];
    const float* dy = dy_[static_cast<size_t>(t)].data();
    for (int64_t i = 0; i < n; ++i) {
      const float* dyi = dy + i * de;
      const float* g = gates_.data() + i * gate_total_ + off;
      float* dz = dlogits_.data() + i * gate_total_ + off;
      float g_dot_dg = 0.0f;
      for (size_t j = 0; j < experts.size(); ++j) {
        const float* he = h_.data() + i * width_ + experts[j] * de;
        float* dhe = dh_.data() + i * width_ + experts[j] * de;
        float dg = 0.0f;
        for (int64_t k = 0; k < de; ++k) {
          dg += dyi[k] * he[k];
          dhe[k] += g[j] * dyi[k];
        }
        dz[j] = dg;
        g_dot_dg += g[j] * dg;
      }
      for (size_t j = 0; j < experts.size(); ++j) dz[j] = g[j] * (dz[j] - g_dot_dg);
    }
  }
  // ReLU' from the stored activations (h > 0 exactly where the
  // pre-activation was).
  const int64_t count = n * width_;
  for (int64_t i = 0; i < count; ++i) dh_[static_cast<size_t>(i)] = h_[static_cast<size_t>(i)] > 0.0f ? dh_[static_cast<size_t>(i)] : 0.0f;
  // dW = x^T dh, db = column sums; the gates likewise with dz.
  blas::gemm(true, false, in_, width_, n, 1.0f, x, in_, dh_.data(), width_, 0.0f, dw_.data(), width_);
  column_sums(dh_.data(), n, width_, db_.data());
  blas::gemm(true, false, in_, gate_total_, n, 1.0f, x, in_, dlogits_.data(), gate_total_, 0.0f,
             dgw_.data(), gate_total_);
  column_sums(dlogits_.data(), n, gate_total_, dgb_.data());
  if (dx != nullptr) {
    // dx = dh W^T + dz G^T.
    blas::gemm(false, true, n, in_, width_, 1.0f, dh_.data(), width_, w_.data(), width_, 0.0f, dx, in_);
    blas::gemm(false, true, n, in_, gate_total_, 1.0f, dlogits_.data(), gate_total_, gw_.data(),
               gate_total_, 1.0f, dx, in_);
  }
}

void MixtureOfExperts::predict(int task, const float* x, int64_t n, float* y,
                               float* scratch) const {
  TANDEM_CHECK(task >= 0 && task < layout_.tasks, "mixture of experts has no task " << task);
  if (n <= 0) return;
  float* h = scratch;
  float* g = h + n * width_;
  compute(x, n, h, g);
  mix(task, h, g, n, y);
}

std::vector<ParameterRef> MixtureOfExperts::parameters(const std::string& prefix) {
  return {{prefix + ".experts.kernel", w_.data(), dw_.data(), in_ * width_},
          {prefix + ".experts.bias", b_.data(), db_.data(), width_},
          {prefix + ".gates.kernel", gw_.data(), dgw_.data(), in_ * gate_total_},
          {prefix + ".gates.bias", gb_.data(), dgb_.data(), gate_total_}};
}

std::vector<ParameterView> MixtureOfExperts::parameter_values(const std::string& prefix) const {
  return {{prefix + ".experts.kernel", w_.data(), in_ * width_},
          {prefix + ".experts.bias", b_.data(), width_},
          {prefix + ".gates.kernel", gw_.data(), in_ * gate_total_},
          {prefix + ".gates.bias", gb_.data(), gate_total_}};
}

Footprint MixtureOfExperts::footprint(int64_t in, const MoeLayout& layout, int64_t max_batch) {
  const int64_t params = bytes_of<float>(moe_parameter_count(in, layout));
  return {params, params, bytes_of<float>(moe_workspace_floats(in, layout, max_batch))};
}

Footprint MixtureOfExperts::allocated() const {
  Footprint f{bytes_held(w_) + bytes_held(b_) + bytes_held(gw_) + bytes_held(gb_),
              bytes_held(dw_) + bytes_held(db_) + bytes_held(dgw_) + bytes_held(dgb_),
              bytes_held(h_) + bytes_held(gates_) + bytes_held(dh_) + bytes_held(dlogits_)};
  for (const auto& v : y_) f.workspace += bytes_held(v);
  for (const auto& v : dy_) f.workspace += bytes_held(v);
  return f;
}

}  // namespace tandem
