// The optimised (blocked, multi-worker) kernels against the plain reference
// implementations, and determinism for a fixed worker count.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tandem/core/random.h"
#include "tandem/core/thread_pool.h"
#include "tandem/model/in_batch_softmax_loss.h"
#include "tandem/model/multitask_model.h"

namespace tandem {
namespace {

std::vector<float> random_vector(size_t n, uint64_t seed, float scale = 1.0f) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = rng.uniform(-scale, scale);
  return v;
}

TEST(InBatchSoftmaxLoss, BlockedAndParallelMatchReference) {
  const int64_t n = 301, d = 16;
  const auto q = random_vector(n * d, 1, 2.0f), c = random_vector(n * d, 2, 2.0f);
  std::vector<float> rq(n * d, 0.0f), rc(n * d, 0.0f);
  const double ref = reference_in_batch_softmax(q.data(), c.data(), n, d, 0.5f, rq.data(), rc.data());
  for (int workers : {1, 2, 3}) {
    for (int64_t block : {int64_t{7}, int64_t{64}, int64_t{512}}) {
      ThreadPool pool(workers);
      InBatchSoftmaxLoss loss(n, block, workers);
      std::vector<float> dq(n * d, 0.0f), dc(n * d, 0.0f);
      const double l = loss.forward_backward(q.data(), c.data(), n, d, 0.5f, dq.data(), dc.data(), &pool);
      EXPECT_NEAR(l, ref, 1e-5 * std::fabs(ref)) << workers << " workers, block " << block;
      for (int64_t i = 0; i < n * d; ++i) {
        ASSERT_NEAR(dq[i], rq[i], 1e-5f + 1e-4f * std::fabs(rq[i])) << i;
        ASSERT_NEAR(dc[i], rc[i], 1e-5f + 1e-4f * std::fabs(rc[i])) << i;
      }
    }
  }
}

TEST(InBatchSoftmaxLoss, AddsToExistingGradients) {
  const int64_t n = 10, d = 4;
  const auto q = random_vector(n * d, 3), c = random_vector(n * d, 4);
  InBatchSoftmaxLoss loss(n);
  std::vector<float> dq0(n * d, 0.0f), dc0(n * d, 0.0f), dq1(n * d, 1.0f), dc1(n * d, 1.0f);
  loss.forward_backward(q.data(), c.data(), n, d, 1.0f, dq0.data(), dc0.data());
  loss.forward_backward(q.data(), c.data(), n, d, 1.0f, dq1.data(), dc1.data());
  for (int64_t i = 0; i < n * d; ++i) {
    EXPECT_FLOAT_EQ(dq1[i], dq0[i] + 1.0f);
    EXPECT_FLOAT_EQ(dc1[i], dc0[i] + 1.0f);
  }
}

// The whole model step split over workers equals the single-thread step (up
// to float reassociation) and is bit-identical run to run.
TEST(MultiTaskModel, ParallelStepMatchesSerialAndIsDeterministic) {
  ModelShape shape{40, 50, 8, {32, 16}};
  const int64_t n = 97;
  Rng rng(6);
  std::vector<int32_t> users(n), items(n);
  std::vector<float> labels(n);
  for (int64_t i = 0; i < n; ++i) {
    users[i] = static_cast<int32_t>(rng.below(40));
    items[i] = static_cast<int32_t>(rng.below(50));
    labels[i] = rng.uniform(0, 1);
  }
  const Batch batch{users.data(), items.data(), labels.data(), n};
  auto run = [&](int workers, std::vector<float>& head, std::vector<float>& ug) {
    MultiTaskModel model(shape, n, workers);
    model.init(11);
    for (auto& v : model.user_table().weights) v *= 10.0f;  // non-trivial scores
    ThreadPool pool(workers);
    const StepLosses l = model.compute_gradients(batch, {0.7f, 1.3f}, &pool);
    head.clear();
    for (const auto& p : model.dense_parameters()) head.insert(head.end(), p.grad, p.grad + p.size);
    ug.clear();
    for (int64_t s = 0; s < model.user_grad().count(); ++s)
      ug.insert(ug.end(), model.user_grad().grad(s), model.user_grad().grad(s) + 8);
    return l;
  };
  std::vector<float> h1, u1, h3, u3, h3b, u3b;
  const StepLosses serial = run(1, h1, u1);
  const StepLosses par = run(3, h3, u3);
  const StepLosses again = run(3, h3b, u3b);
  EXPECT_NEAR(par.ranking, serial.ranking, 1e-6 * serial.ranking);
  EXPECT_NEAR(par.retrieval, serial.retrieval, 1e-6 * serial.retrieval);
  ASSERT_EQ(h1.size(), h3.size());
  for (size_t i = 0; i < h1.size(); ++i) ASSERT_NEAR(h3[i], h1[i], 1e-5f + 1e-4f * std::fabs(h1[i]));
  ASSERT_EQ(u1.size(), u3.size());
  for (size_t i = 0; i < u1.size(); ++i) ASSERT_NEAR(u3[i], u1[i], 1e-5f + 1e-4f * std::fabs(u1[i]));
  EXPECT_EQ(h3, h3b);
  EXPECT_EQ(u3, u3b);
  EXPECT_EQ(par.total, again.total);
}

}  // namespace
}  // namespace tandem
