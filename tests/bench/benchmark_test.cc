#include "tandem/bench/benchmark.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "tandem/core/error.h"

namespace tandem {
namespace {

TEST(StepFlops, HandComputedSmallModel) {
  // dim 2 (head input 4), hidden {3}, output 1, batch 4.
  // Head GEMMs: 4->3: 3 x (2*4*4*3) = 288; 3->1: 3 x (2*4*3*1) = 72.
  // Softmax GEMMs: 3 x (2*4*4*2) = 192. Elementwise: 5*16 + 3*4*(3+1) = 128.
  const ModelShape shape{10, 10, 2, {3}};
  EXPECT_DOUBLE_EQ(step_flops(shape, 4, {1.0f, 1.0f}), 288 + 72 + 192 + 128);
  EXPECT_DOUBLE_EQ(step_flops(shape, 4, {1.0f, 0.0f}), 288 + 72 + 48);
  EXPECT_DOUBLE_EQ(step_flops(shape, 4, {0.0f, 1.0f}), 192 + 80);
}

TEST(StepGemms, WorkersSplitTheSameWorkAndZeroWeightTasksIssueNothing) {
  const ModelShape shape{100, 100, 32, {256, 128}};
  auto total = [](const std::vector<std::vector<GemmCall>>& calls) {
    double f = 0;
    for (const auto& w : calls)
      for (const auto& c : w) f += c.flops();
    return f;
  };
  const auto one = step_gemms(shape, 1000, {1.0f, 1.0f}, 1);
  const auto two = step_gemms(shape, 1000, {1.0f, 1.0f}, 2);
  EXPECT_EQ(two.size(), 2u);
  EXPECT_DOUBLE_EQ(total(one), total(two));
  // Rating-only: no GEMM with the batch as a dimension of the score matrix.
  const auto rating_only = step_gemms(shape, 1000, {1.0f, 0.0f}, 2);
  for (const auto& c : rating_only[0]) EXPECT_NE(c.n, 1000);
  // Retrieval-only: no GEMM of the rating head.
  const auto retrieval_only = step_gemms(shape, 1000, {0.0f, 1.0f}, 2);
  for (const auto& c : retrieval_only[1]) EXPECT_NE(c.n, 256);
  EXPECT_FALSE(retrieval_only[1].empty());
}

TEST(RunMeasured, ReportsTheChildsPeakMemoryAndResult) {
  const auto j = run_measured([] {
    std::vector<char> big(200u << 20);
    std::memset(big.data(), 1, big.size());
    return nlohmann::json{{"sum", static_cast<int>(big[12345])}};
  });
  EXPECT_EQ(j["sum"], 1);
  EXPECT_GE(j["peak_rss_mb"].get<double>(), 200.0);
  EXPECT_THROW(run_measured([]() -> nlohmann::json { throw Error("nope"); }), Error);
}

TEST(MeasureGemmRate, PositiveForRealShapes) {
  const ModelShape shape{100, 100, 8, {16}};
  EXPECT_GT(measure_gemm_rate(step_gemms(shape, 64, {1.0f, 1.0f}, 2), 1), 0.0);
  EXPECT_EQ(measure_gemm_rate({}, 1), 0.0);
}

}  // namespace
}  // namespace tandem
