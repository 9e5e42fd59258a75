#include "tandem/model/dense_layer.h"

#include <cmath>

#include "tandem/core/blas.h"
#include "tandem/core/error.h"

namespace tandem {

DenseLayer::DenseLayer(int64_t in, int64_t out, Activation act, int64_t max_batch,
                       const float* input, float* input_grad)
    : in_(in), out_(out), max_batch_(max_batch), act_(act), input_(input), input_grad_(input_grad) {
  TANDEM_CHECK(in > 0 && out > 0 && max_batch > 0,
               "dense layer needs positive sizes, got in=" << in << " out=" << out
                                                           << " max_batch=" << max_batch);
  kernel_.assign(static_cast<size_t>(in * out), 0.0f);
  kernel_grad_.assign(kernel_.size(), 0.0f);
  bias_.assign(static_cast<size_t>(out), 0.0f);
  bias_grad_.assign(bias_.size(), 0.0f);
  output_.assign(static_cast<size_t>(max_batch * out), 0.0f);
  output_grad_.assign(output_.size(), 0.0f);
}

void DenseLayer::init_glorot(Rng& rng) {
  const float limit = std::sqrt(6.0f / static_cast<float>(in_ + out_));
  for (float& w : kernel_) w = rng.uniform(-limit, limit);
  for (float& b : bias_) b = 0.0f;
}

void DenseLayer::fprop(int64_t batch) {
  TANDEM_CHECK(batch <= max_batch_, "batch " << batch << " exceeds layer capacity " << max_batch_);
  fprop_rows(0, batch);
}

void DenseLayer::fprop_rows(int64_t r0, int64_t r1) {
  forward(input_ + r0 * in_, r1 - r0, output_.data() + r0 * out_);
}

void DenseLayer::forward(const float* x, int64_t n, float* y) const {
  // Seed the output with the bias so the GEMM accumulates onto it (beta = 1).
  for (int64_t i = 0; i < n; ++i) {
    float* row = y + i * out_;
    for (int64_t j = 0; j < out_; ++j) row[j] = bias_[j];
  }
  blas::gemm(false, false, n, out_, in_, 1.0f, x, in_, kernel_.data(), out_, 1.0f, y, out_);
  if (act_ == Activation::kRelu) {
    const int64_t count = n * out_;
    for (int64_t i = 0; i < count; ++i) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
  }
}

void DenseLayer::bprop(int64_t batch) { bprop_rows(0, batch, kernel_grad_.data(), bias_grad_.data()); }

void DenseLayer::bprop_rows(int64_t r0, int64_t r1, float* kernel_grad, float* bias_grad) {
  const int64_t rows = r1 - r0;
  float* dy = output_grad_.data() + r0 * out_;
  const float* x = input_ + r0 * in_;
  if (act_ == Activation::kRelu) {
    // ReLU' from the stored output: y > 0 exactly where the pre-activation was.
    const float* y = output_.data() + r0 * out_;
    const int64_t n = rows * out_;
    for (int64_t i = 0; i < n; ++i) dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
  }
  // dW = x^T dy; db = column sums of dy; dx = dy W^T.
  blas::gemm(true, false, in_, out_, rows, 1.0f, x, in_, dy, out_, 0.0f, kernel_grad, out_);
  for (int64_t j = 0; j < out_; ++j) bias_grad[j] = 0.0f;
  for (int64_t i = 0; i < rows; ++i) {
    const float* row = dy + i * out_;
    for (int64_t j = 0; j < out_; ++j) bias_grad[j] += row[j];
  }
  if (input_grad_ != nullptr) {
    blas::gemm(false, true, rows, in_, out_, 1.0f, dy, out_, kernel_.data(), out_, 0.0f,
               input_grad_ + r0 * in_, in_);
  }
}

std::vector<ParameterRef> DenseLayer::parameters(const std::string& prefix) {
  return {{prefix + ".kernel", kernel_.data(), kernel_grad_.data(), in_ * out_},
          {prefix + ".bias", bias_.data(), bias_grad_.data(), out_}};
}

Footprint DenseLayer::footprint(int64_t in, int64_t out, int64_t max_batch) {
  const int64_t params = bytes_of<float>(footprint_add(footprint_mul(in, out), out));
  return {params, params, footprint_mul(bytes_of<float>(footprint_mul(max_batch, out)), 2)};
}

Footprint DenseLayer::allocated() const {
  return {bytes_held(kernel_) + bytes_held(bias_), bytes_held(kernel_grad_) + bytes_held(bias_grad_),
          bytes_held(output_) + bytes_held(output_grad_)};
}

}  // namespace tandem
