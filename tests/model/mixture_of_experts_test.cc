#include "tandem/model/mixture_of_experts.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <vector>

#include "gradient_check.h"
#include "tandem/core/error.h"
#include "tandem/model/multitask_architecture.h"

namespace tandem {
namespace {

MoeLayout mmoe_layout() {
  MoeLayout l;
  l.kind = MoeKind::kMmoe;
  l.experts = 3;
  l.expert_dim = 4;
  return l;
}

MoeLayout ple_layout() {
  MoeLayout l;
  l.kind = MoeKind::kPle;
  l.shared_experts = 2;
  l.task_experts = 1;
  l.expert_dim = 4;
  return l;
}

TEST(MoeLayout, GatesSeeTheRightExperts) {
  const MoeLayout m = mmoe_layout();
  EXPECT_EQ(m.total_experts(), 3);
  EXPECT_EQ(m.experts_of(0), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(m.experts_of(1), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(m.total_gate_width(), 6);
  const MoeLayout p = ple_layout();
  EXPECT_EQ(p.total_experts(), 4);  // 2 shared + 1 per task
  EXPECT_EQ(p.experts_of(0), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(p.experts_of(1), (std::vector<int64_t>{0, 1, 3}));
  // in=5: experts [5, 16] + [16], gates [5, 6] + [6].
  EXPECT_EQ(moe_parameter_count(5, p), 5 * 16 + 16 + 5 * 6 + 6);
}

// A loss that reads every task output through fixed random weights, so that
// dL/dy_t = c_t is known and every path (experts, gates, input) is exercised.
void check_gradients(const MoeLayout& layout) {
  const int64_t n = 5, in = 3, de = layout.expert_dim;
  MixtureOfExperts moe(in, layout, n);
  Rng rng(11);
  moe.init_glorot(rng);
  // Non-zero biases so that the ReLU and gate paths are not at their init.
  for (auto& p : moe.parameters("moe"))
    if (p.name.find("bias") != std::string::npos)
      for (int64_t i = 0; i < p.size; ++i) p.value[i] = rng.uniform(-0.3f, 0.3f);
  std::vector<float> x(static_cast<size_t>(n * in));
  for (auto& v : x) v = rng.uniform(-1.5f, 1.5f);
  std::vector<std::vector<float>> c(2, std::vector<float>(static_cast<size_t>(n * de)));
  for (auto& ct : c)
    for (auto& v : ct) v = rng.uniform(-1.0f, 1.0f);
  auto loss = [&] {
    moe.forward(x.data(), n);
    double l = 0.0;
    for (int t = 0; t < 2; ++t)
      for (int64_t i = 0; i < n * de; ++i) l += static_cast<double>(c[t][i]) * moe.output(t)[i];
    return l;
  };
  loss();
  for (int t = 0; t < 2; ++t) std::copy(c[t].begin(), c[t].end(), moe.output_grad(t));
  std::vector<float> dx(x.size());
  moe.backward(x.data(), n, dx.data());
  for (const auto& p : moe.parameters("moe")) {
    const std::vector<float> g(p.grad, p.grad + p.size);
    testing::expect_gradient_matches(loss, p.value, g.data(), p.size, p.name, 1e-3f);
  }
  testing::expect_gradient_matches(loss, x.data(), dx.data(), n * in, "input", 1e-3f);
}

TEST(MixtureOfExperts, MmoeGradientsMatchFiniteDifferences) { check_gradients(mmoe_layout()); }
TEST(MixtureOfExperts, PleGradientsMatchFiniteDifferences) { check_gradients(ple_layout()); }

TEST(MixtureOfExperts, PredictEqualsForwardAndGatesAreDistributions) {
  for (const MoeLayout& layout : {mmoe_layout(), ple_layout()}) {
    const int64_t n = 7, in = 3;
    MixtureOfExperts moe(in, layout, n);
    Rng rng(3);
    moe.init_glorot(rng);
    std::vector<float> x(static_cast<size_t>(n * in));
    for (auto& v : x) v = rng.uniform(-1.0f, 1.0f);
    moe.forward(x.data(), n);
    for (int t = 0; t < 2; ++t) {
      std::vector<float> y(static_cast<size_t>(n * layout.expert_dim));
      std::vector<float> scratch(static_cast<size_t>(moe.predict_scratch_floats(n)));
      moe.predict(t, x.data(), n, y.data(), scratch.data());
      for (size_t i = 0; i < y.size(); ++i) EXPECT_EQ(y[i], moe.output(t)[i]);
      for (int64_t i = 0; i < n; ++i) {
        const float* g = moe.gates() + i * layout.total_gate_width() + moe.gate_offset(t);
        const float sum = std::accumulate(g, g + layout.gate_width(t), 0.0f);
        EXPECT_NEAR(sum, 1.0f, 1e-6f);
      }
    }
  }
}

// PLE: a task never reads the other task's own experts. Changing the weights
// of task 1's expert (fused index 3) leaves task 0's output as it was.
TEST(MixtureOfExperts, PleTaskExpertsArePrivate) {
  const MoeLayout layout = ple_layout();
  const int64_t n = 4, in = 3, de = layout.expert_dim, width = layout.total_experts() * de;
  MixtureOfExperts moe(in, layout, n);
  Rng rng(8);
  moe.init_glorot(rng);
  std::vector<float> x(static_cast<size_t>(n * in));
  for (auto& v : x) v = rng.uniform(-1.0f, 1.0f);
  moe.forward(x.data(), n);
  const std::vector<float> task0(moe.output(0), moe.output(0) + n * de);
  const std::vector<float> task1(moe.output(1), moe.output(1) + n * de);
  float* kernel = moe.parameters("moe")[0].value;
  for (int64_t i = 0; i < in; ++i)
    for (int64_t j = 3 * de; j < width; ++j) kernel[i * width + j] += 5.0f;
  moe.forward(x.data(), n);
  EXPECT_EQ(std::vector<float>(moe.output(0), moe.output(0) + n * de), task0);
  EXPECT_NE(std::vector<float>(moe.output(1), moe.output(1) + n * de), task1);
}

TEST(MultitaskSpec, ParsesAndValidates) {
  EXPECT_EQ(parse_multitask_arch("mmoe"), MultitaskArch::kMmoe);
  EXPECT_EQ(to_string(parse_multitask_arch("ple")), "ple");
  EXPECT_EQ(to_string(parse_multitask_arch("shared-bottom")), "shared-bottom");
  EXPECT_THROW(parse_multitask_arch("moe"), Error);
  EXPECT_EQ(parse_task_weighting("uncertainty"), TaskWeighting::kUncertainty);
  EXPECT_THROW(parse_task_weighting("learned"), Error);
  MultitaskSpec s;
  s.validate();
  s.expert_dim = 0;
  EXPECT_THROW(s.validate(), Error);
  s = MultitaskSpec{};
  s.arch = MultitaskArch::kPle;
  s.shared_experts = 0;
  s.task_experts = 0;
  EXPECT_THROW(s.validate(), Error);
  s = MultitaskSpec{};
  s.experts = 0;
  EXPECT_THROW(s.validate(), Error);
}

}  // namespace
}  // namespace tandem
