#include "tandem/model/dense_layer.h"

#include <gtest/gtest.h>

#include <vector>

#include "gradient_check.h"
#include "tandem/core/random.h"

namespace tandem {
namespace {

// L = sum_ij c_ij * y_ij for fixed random c, so dL/dy = c.
struct LinearProbe {
  std::vector<float> c;
  double operator()(const float* y, int64_t n) const {
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += static_cast<double>(c[i]) * y[i];
    return s;
  }
};

void check_dense_gradients(Activation act) {
  const int64_t batch = 5, in = 4, out = 3;
  Rng rng(7);
  std::vector<float> x(batch * in), dx(batch * in);
  for (float& v : x) v = rng.uniform(-1, 1);
  DenseLayer layer(in, out, act, batch, x.data(), dx.data());
  layer.init_glorot(rng);
  for (int64_t j = 0; j < out; ++j) layer.bias()[j] = rng.uniform(-0.3f, 0.3f);
  LinearProbe probe{std::vector<float>(batch * out)};
  for (float& v : probe.c) v = rng.uniform(-1, 1);

  auto loss = [&] {
    layer.fprop(batch);
    return probe(layer.output(), batch * out);
  };
  loss();
  std::copy(probe.c.begin(), probe.c.end(), layer.output_grad());
  layer.bprop(batch);
  const std::vector<float> dw(layer.kernel_grad(), layer.kernel_grad() + in * out);
  const std::vector<float> db(layer.bias_grad(), layer.bias_grad() + out);
  const std::vector<float> dxs = dx;
  testing::expect_gradient_matches(loss, layer.kernel(), dw.data(), in * out, "kernel", 1e-3f);
  testing::expect_gradient_matches(loss, layer.bias(), db.data(), out, "bias", 1e-3f);
  testing::expect_gradient_matches(loss, x.data(), dxs.data(), batch * in, "input", 1e-3f);
}

TEST(DenseLayer, LinearGradientsMatchFiniteDifferences) { check_dense_gradients(Activation::kNone); }
TEST(DenseLayer, ReluGradientsMatchFiniteDifferences) { check_dense_gradients(Activation::kRelu); }

TEST(DenseLayer, ForwardComputesBiasPlusProductThenRelu) {
  // x = [1, 2], W = [[1, -1], [0.5, -2]], b = [0.5, 1]
  // xW + b = [1 + 1 + 0.5, -1 - 4 + 1] = [2.5, -4] -> relu [2.5, 0]
  std::vector<float> x = {1, 2}, dx(2);
  DenseLayer layer(2, 2, Activation::kRelu, 1, x.data(), dx.data());
  const float w[] = {1, -1, 0.5f, -2};
  std::copy(w, w + 4, layer.kernel());
  layer.bias()[0] = 0.5f;
  layer.bias()[1] = 1.0f;
  layer.fprop(1);
  EXPECT_FLOAT_EQ(layer.output()[0], 2.5f);
  EXPECT_FLOAT_EQ(layer.output()[1], 0.0f);
  std::vector<float> y(2);
  layer.forward(x.data(), 1, y.data());
  EXPECT_EQ(y[0], layer.output()[0]);
  EXPECT_EQ(y[1], layer.output()[1]);
}

TEST(DenseLayer, GlorotInitIsWithinLimitAndBiasZero) {
  std::vector<float> x(10 * 64), dx(x.size());
  DenseLayer layer(64, 256, Activation::kRelu, 10, x.data(), dx.data());
  Rng rng(3);
  layer.init_glorot(rng);
  const float limit = std::sqrt(6.0f / (64 + 256));
  float lo = 1, hi = -1;
  for (int64_t i = 0; i < 64 * 256; ++i) {
    lo = std::min(lo, layer.kernel()[i]);
    hi = std::max(hi, layer.kernel()[i]);
  }
  EXPECT_GE(lo, -limit);
  EXPECT_LE(hi, limit);
  EXPECT_LT(lo, -0.9f * limit);  // actually spread over the range
  EXPECT_GT(hi, 0.9f * limit);
  for (int64_t j = 0; j < 256; ++j) EXPECT_EQ(layer.bias()[j], 0.0f);
}

TEST(DenseLayer, RejectsBatchAboveCapacity) {
  std::vector<float> x(8), dx(8);
  DenseLayer layer(4, 2, Activation::kNone, 2, x.data(), dx.data());
  EXPECT_THROW(layer.fprop(3), std::exception);
}

}  // namespace
}  // namespace tandem
