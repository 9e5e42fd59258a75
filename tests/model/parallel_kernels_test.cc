// The optimised (blocked, multi-worker) kernels against the plain reference
// implementations, and determinism for a fixed worker count.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tandem/core/error.h"
#include "tandem/core/random.h"
#include "tandem/core/thread_pool.h"
#include "reference_softmax.h"
#include "tandem/model/multitask_model.h"

namespace tandem {
namespace {

std::vector<float> random_vector(size_t n, uint64_t seed, float scale = 1.0f) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = rng.uniform(-scale, scale);
  return v;
}

TEST(RetrievalSoftmaxPlain, BlockedAndParallelMatchReference) {
  const int64_t n = 301, d = 16;
  const auto q = random_vector(n * d, 1, 2.0f), c = random_vector(n * d, 2, 2.0f);
  std::vector<float> rq(n * d, 0.0f), rc(n * d, 0.0f);
  const double ref = testing::reference_in_batch_softmax(q.data(), c.data(), n, d, 0.5f, rq.data(), rc.data());
  for (int workers : {1, 2, 3}) {
    for (int64_t block : {int64_t{7}, int64_t{64}, int64_t{512}}) {
      ThreadPool pool(workers);
      testing::PlainSoftmax loss(n, block, workers);
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

TEST(RetrievalSoftmaxPlain, AddsToExistingGradients) {
  const int64_t n = 10, d = 4;
  const auto q = random_vector(n * d, 3), c = random_vector(n * d, 4);
  testing::PlainSoftmax loss(n);
  std::vector<float> dq0(n * d, 0.0f), dc0(n * d, 0.0f), dq1(n * d, 1.0f), dc1(n * d, 1.0f);
  loss.forward_backward(q.data(), c.data(), n, d, 1.0f, dq0.data(), dc0.data());
  loss.forward_backward(q.data(), c.data(), n, d, 1.0f, dq1.data(), dc1.data());
  for (int64_t i = 0; i < n * d; ++i) {
    EXPECT_FLOAT_EQ(dq1[i], dq0[i] + 1.0f);
    EXPECT_FLOAT_EQ(dc1[i], dc0[i] + 1.0f);
  }
}

// The distinct-rows path against the full-matrix reference: same loss, same
// gradient sums per embedding row (duplicates in both queries and candidates).
TEST(RetrievalSoftmaxPlain, DistinctRowsPathMatchesReference) {
  const int64_t n = 211, d = 8, user_rows = 30, item_rows = 45;
  const auto users_table = random_vector(user_rows * d, 7, 1.5f);
  const auto items_table = random_vector(item_rows * d, 8, 1.5f);
  Rng rng(9);
  std::vector<int32_t> uid(n), iid(n);
  for (int64_t i = 0; i < n; ++i) {
    uid[i] = static_cast<int32_t>(rng.below(user_rows));
    iid[i] = static_cast<int32_t>(rng.below(item_rows));
  }
  std::vector<float> q(n * d), c(n * d);
  for (int64_t i = 0; i < n; ++i) {
    std::copy_n(users_table.data() + uid[i] * d, d, q.data() + i * d);
    std::copy_n(items_table.data() + iid[i] * d, d, c.data() + i * d);
  }
  std::vector<float> rq(n * d, 0.0f), rc(n * d, 0.0f);
  const double ref = testing::reference_in_batch_softmax(q.data(), c.data(), n, d, 0.7f, rq.data(), rc.data());
  auto row_sums = [&](const std::vector<float>& g, const std::vector<int32_t>& ids, int64_t rows) {
    std::vector<double> out(static_cast<size_t>(rows * d), 0.0);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < d; ++j) out[ids[i] * d + j] += g[i * d + j];
    return out;
  };
  const auto ref_u = row_sums(rq, uid, user_rows), ref_i = row_sums(rc, iid, item_rows);
  for (int workers : {1, 2, 3}) {
    ThreadPool pool(workers);
    testing::PlainSoftmax loss(n, 16, workers, std::max(user_rows, item_rows), d);
    RowDedup du(user_rows, n), di(item_rows, n);
    du.assign(uid.data(), n);
    di.assign(iid.data(), n);
    ASSERT_LT(du.distinct(), n);  // the test needs duplicates
    ASSERT_LT(di.distinct(), n);
    std::vector<float> dq(n * d, 0.0f), dc(n * d, 0.0f);
    const double l = loss.forward_backward_distinct(q.data(), c.data(), n, d, 0.7f, dq.data(),
                                                    dc.data(), uid.data(), iid.data(), &pool);
    EXPECT_EQ(loss.score_rows(), du.distinct());
    EXPECT_EQ(loss.score_cols(), di.distinct());
    EXPECT_NEAR(l, ref, 1e-5 * std::fabs(ref)) << workers;
    const auto got_u = row_sums(dq, uid, user_rows), got_i = row_sums(dc, iid, item_rows);
    for (size_t k = 0; k < got_u.size(); ++k)
      ASSERT_NEAR(got_u[k], ref_u[k], 1e-4 + 1e-4 * std::fabs(ref_u[k])) << k;
    for (size_t k = 0; k < got_i.size(); ++k)
      ASSERT_NEAR(got_i[k], ref_i[k], 1e-4 + 1e-4 * std::fabs(ref_i[k])) << k;
  }
}

// Through the whole model: the distinct-rows retrieval gives the same losses
// and the same per-row embedding gradients as the full score matrix.
TEST(MultiTaskModel, DistinctRowsStepEqualsFullMatrixStep) {
  ModelShape shape{12, 15, 8, {16}};
  const int64_t n = 64;
  Rng rng(12);
  std::vector<int32_t> users(n), items(n);
  std::vector<float> labels(n);
  for (int64_t i = 0; i < n; ++i) {
    users[i] = static_cast<int32_t>(rng.below(12));
    items[i] = static_cast<int32_t>(rng.below(15));
    labels[i] = rng.uniform(0, 1);
  }
  auto run = [&](bool distinct, std::vector<double>& ug, std::vector<double>& ig) {
    MultiTaskModel model(shape, n, 2);
    model.init(4);
    for (auto& v : model.item_table().weights) v *= 20.0f;
    model.set_distinct_rows(distinct);
    ThreadPool pool(2);
    const StepLosses l = model.compute_gradients({users.data(), items.data(), labels.data(), n},
                                                 {1.0f, 1.0f}, &pool);
    ug.assign(12 * 8, 0.0);
    ig.assign(15 * 8, 0.0);
    for (int64_t s = 0; s < model.user_grad().count(); ++s)
      for (int j = 0; j < 8; ++j) ug[model.user_grad().rows()[s] * 8 + j] = model.user_grad().grad(s)[j];
    for (int64_t s = 0; s < model.item_grad().count(); ++s)
      for (int j = 0; j < 8; ++j) ig[model.item_grad().rows()[s] * 8 + j] = model.item_grad().grad(s)[j];
    return l;
  };
  std::vector<double> u1, i1, u2, i2;
  const StepLosses full = run(false, u1, i1);
  const StepLosses distinct = run(true, u2, i2);
  EXPECT_EQ(full.score_rows, n);
  EXPECT_LE(distinct.score_rows, 12);
  EXPECT_LE(distinct.score_cols, 15);
  EXPECT_NEAR(distinct.retrieval, full.retrieval, 1e-5 * full.retrieval);
  EXPECT_NEAR(distinct.ranking, full.ranking, 1e-12);
  for (size_t k = 0; k < u1.size(); ++k) ASSERT_NEAR(u2[k], u1[k], 1e-4 + 1e-4 * std::fabs(u1[k])) << k;
  for (size_t k = 0; k < i1.size(); ++k) ASSERT_NEAR(i2[k], i1[k], 1e-4 + 1e-4 * std::fabs(i1[k])) << k;
}

TEST(RowDedup, FirstAppearanceOrderCountsAndReset) {
  RowDedup d(10, 6);
  const int32_t a[] = {4, 2, 4, 4, 9};
  d.assign(a, 5);
  EXPECT_EQ(d.distinct(), 3);
  EXPECT_EQ(d.index(), (std::vector<int32_t>{0, 1, 0, 0, 2}));
  EXPECT_EQ(d.first(), (std::vector<int32_t>{0, 1, 4}));
  EXPECT_EQ(d.counts(), (std::vector<float>{3, 1, 1}));
  const int32_t b[] = {9, 9};
  d.assign(b, 2);
  EXPECT_EQ(d.distinct(), 1);
  EXPECT_EQ(d.counts(), (std::vector<float>{2}));
  const int32_t bad[] = {10};
  EXPECT_THROW(d.assign(bad, 1), Error);
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

// The pooled scatter splits the sums by distinct row; each row still adds
// its examples in batch order, so it equals the serial one bit for bit,
// -0 first values included, and a second assign forgets the first.
TEST(RowGradient, PooledScatterEqualsSerialBitForBit) {
  const int64_t rows = 300, d = 16, n = 4096;
  Rng rng(11);
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (auto& id : ids) id = static_cast<int32_t>(rng.uniform(0.0f, 1.0f) * 0.999f * rows);
  std::vector<float> g(static_cast<size_t>(n * d));
  for (auto& x : g) x = rng.uniform(-1.0f, 1.0f);
  g[0] = -0.0f;  // the first example of its row: the sum must keep the sign
  for (int threads : {2, 3, 7}) {
    ThreadPool pool(threads);
    RowGradient serial(rows, d, n), pooled(rows, d, n);
    for (int round = 0; round < 2; ++round) {
      const int64_t m = round == 0 ? n : n / 2;  // the second, smaller batch resets the first
      serial.assign(ids.data() + round, g.data(), m, 0.5f);
      pooled.assign(ids.data() + round, g.data(), m, 0.5f, &pool);
      ASSERT_EQ(serial.rows(), pooled.rows());
      for (int64_t s = 0; s < serial.count(); ++s)
        for (int64_t j = 0; j < d; ++j) {
          const float a = serial.grad(s)[j], b = pooled.grad(s)[j];
          ASSERT_EQ(std::signbit(a), std::signbit(b)) << "slot " << s << " dim " << j;
          ASSERT_EQ(a, b) << "slot " << s << " dim " << j << ", " << threads << " threads";
        }
    }
  }
}

// A hand-checked case: rows in first-appearance order, sums per row.
TEST(RowGradient, SumsPerRowInFirstAppearanceOrder) {
  RowGradient grad(5, 2, 4);
  const int32_t ids[] = {3, 1, 3, 0};
  const float g[] = {1, 2, 10, 20, 100, 200, 5, 6};
  grad.assign(ids, g, 4, 2.0f);
  ASSERT_EQ(grad.rows(), (std::vector<int32_t>{3, 1, 0}));
  EXPECT_EQ(grad.grad(0)[0], 202.0f);
  EXPECT_EQ(grad.grad(0)[1], 404.0f);
  EXPECT_EQ(grad.grad(1)[0], 20.0f);
  EXPECT_EQ(grad.grad(2)[1], 12.0f);
}

}  // namespace
}  // namespace tandem
