#include "tandem/model/multitask_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gradient_check.h"
#include "tandem/model/mse_loss.h"

namespace tandem {
namespace {

TEST(RowGradient, SumsDuplicateIdsInFirstAppearanceOrder) {
  RowGradient g(10, 2, 4);
  const int32_t ids[] = {7, 3, 7, 1};
  const float grads[] = {1, 2, 10, 20, 100, 200, 5, 5};
  g.assign(ids, grads, 4, 0.5f);
  ASSERT_EQ(g.count(), 3);
  EXPECT_EQ(g.rows(), (std::vector<int32_t>{7, 3, 1}));
  EXPECT_FLOAT_EQ(g.grad(0)[0], 50.5f);
  EXPECT_FLOAT_EQ(g.grad(0)[1], 101.0f);
  EXPECT_FLOAT_EQ(g.grad(1)[0], 5.0f);
  EXPECT_FLOAT_EQ(g.grad(2)[1], 2.5f);
  // Re-assigning forgets the previous batch.
  const int32_t ids2[] = {3};
  g.assign(ids2, grads, 1);
  EXPECT_EQ(g.rows(), (std::vector<int32_t>{3}));
  EXPECT_FLOAT_EQ(g.grad(0)[0], 1.0f);
}

TEST(Mlp, GradientsMatchFiniteDifferences) {
  const int64_t batch = 4, in = 6;
  Mlp mlp(in, {5, 3}, 1, batch);
  Rng rng(21);
  mlp.init_glorot(rng);
  for (auto* l : mlp.layers())
    for (int64_t j = 0; j < l->out(); ++j) l->bias()[j] = rng.uniform(-0.2f, 0.2f);
  std::vector<float> x(batch * in), y(batch);
  for (auto& v : x) v = rng.uniform(-1, 1);
  for (auto& v : y) v = rng.uniform(-1, 1);
  auto loss = [&] {
    std::copy(x.begin(), x.end(), mlp.input());
    mlp.fprop(batch);
    return MseLoss::forward(mlp.output(), y.data(), batch);
  };
  loss();
  MseLoss::backward(mlp.output(), y.data(), batch, 1.0f, mlp.output_grad());
  mlp.bprop(batch);
  const std::vector<float> dx(mlp.input_grad(), mlp.input_grad() + batch * in);
  for (const auto& p : mlp.parameters()) {
    const std::vector<float> g(p.grad, p.grad + p.size);
    testing::expect_gradient_matches(loss, p.value, g.data(), p.size, p.name, 1e-3f);
  }
  testing::expect_gradient_matches(loss, x.data(), dx.data(), batch * in, "input", 1e-3f);
  // Inference path equals the training forward.
  std::vector<float> out(batch), scratch;
  mlp.predict(x.data(), batch, out.data(), scratch);
  loss();
  for (int64_t i = 0; i < batch; ++i) EXPECT_FLOAT_EQ(out[i], mlp.output()[i]);
}

// Checks every gradient of the model's total loss on `batch` against central
// differences: each row of both embedding tables (rows the batch did not touch
// must get 0) and every dense parameter. Returns the distinct rows that got a
// gradient (users, items).
std::pair<size_t, size_t> check_whole_model_gradients(MultiTaskModel& model, const Batch& batch,
                                                      const TaskWeights& w) {
  const int64_t d = model.shape().dim;
  auto total_loss = [&] { return model.compute_gradients(batch, w).total; };
  model.compute_gradients(batch, w);
  // Snapshot gradients (the FD loop recomputes and overwrites them).
  std::map<int32_t, std::vector<float>> ug, ig;
  for (int64_t s = 0; s < model.user_grad().count(); ++s)
    ug[model.user_grad().rows()[s]].assign(model.user_grad().grad(s), model.user_grad().grad(s) + d);
  for (int64_t s = 0; s < model.item_grad().count(); ++s)
    ig[model.item_grad().rows()[s]].assign(model.item_grad().grad(s), model.item_grad().grad(s) + d);
  std::vector<std::vector<float>> head;
  auto params = model.dense_parameters();
  for (const auto& p : params) head.emplace_back(p.grad, p.grad + p.size);

  for (int32_t r = 0; r < model.shape().user_rows; ++r) {
    std::vector<float> g = ug.count(r) ? ug[r] : std::vector<float>(d, 0.0f);
    testing::expect_gradient_matches(total_loss, model.user_table().row(r), g.data(), d,
                                     "user row " + std::to_string(r), 1e-2f);
  }
  for (int32_t r = 0; r < model.shape().item_rows; ++r) {
    std::vector<float> g = ig.count(r) ? ig[r] : std::vector<float>(d, 0.0f);
    testing::expect_gradient_matches(total_loss, model.item_table().row(r), g.data(), d,
                                     "item row " + std::to_string(r), 1e-2f);
  }
  for (size_t i = 0; i < params.size(); ++i) {
    testing::expect_gradient_matches(total_loss, params[i].value, head[i].data(), params[i].size,
                                     params[i].name, 1e-2f);
  }
  return {ug.size(), ig.size()};
}

// The checked model: 5 users, 6 items, dim 3, one hidden layer of 4, with
// embeddings larger than the Keras init so the checks are not all ~0.
const ModelShape kCheckedShape{5, 6, 3, {4}};
void init_checked_model(MultiTaskModel& model) {
  model.init(17);
  Rng rng(4);
  for (auto& v : model.user_table().weights) v = rng.uniform(-0.8f, 0.8f);
  for (auto& v : model.item_table().weights) v = rng.uniform(-0.8f, 0.8f);
}

// The whole model: gradients of w_rank * MSE + w_ret * softmax CE with respect
// to the embedding tables (through RowGradient, duplicates included) and the
// rating head.
TEST(MultiTaskModel, GradientsMatchFiniteDifferences) {
  const int64_t n = 5;
  MultiTaskModel model(kCheckedShape, n);
  init_checked_model(model);
  const int32_t users[] = {1, 4, 1, 0, 2};  // user 1 twice
  const int32_t items[] = {5, 2, 3, 2, 0};  // item 2 twice
  const float labels[] = {0.5f, 1.0f, 0.0f, 0.75f, 0.25f};
  const auto [user_rows, item_rows] =
      check_whole_model_gradients(model, {users, items, labels, n}, {0.7f, 1.3f});
  EXPECT_EQ(user_rows, 4u);  // rows 0, 1, 2, 4
  EXPECT_EQ(item_rows, 4u);  // rows 0, 2, 3, 5
}

// Duplicate (user, item) pairs, with different labels, and a user repeated
// with other items: the in-batch softmax then has the same item as an
// example's positive and as a column of another copy, and the per-row sums
// gather several examples of both tasks. The distinct-rows retrieval (the
// default) and the full batch x batch one must each match finite differences,
// and give the same loss.
TEST(MultiTaskModel, GradientsMatchFiniteDifferencesWithDuplicatePairs) {
  const int64_t n = 7;
  const int32_t users[] = {1, 3, 1, 1, 3, 0, 1};  // (1, 2) three times, (3, 4) twice
  const int32_t items[] = {2, 4, 2, 5, 4, 2, 2};
  const float labels[] = {0.5f, 1.0f, 0.0f, 0.75f, 0.25f, 1.0f, 0.9f};
  const Batch batch{users, items, labels, n};
  const TaskWeights w{0.7f, 1.3f};
  double losses[2] = {0.0, 0.0};
  for (bool distinct : {true, false}) {
    SCOPED_TRACE(distinct ? "distinct rows" : "batch x batch");
    MultiTaskModel model(kCheckedShape, n);
    init_checked_model(model);
    model.set_distinct_rows(distinct);
    losses[distinct] = model.compute_gradients(batch, w).total;
    const auto [user_rows, item_rows] = check_whole_model_gradients(model, batch, w);
    EXPECT_EQ(user_rows, 3u);  // rows 0, 1, 3
    EXPECT_EQ(item_rows, 3u);  // rows 2, 4, 5
  }
  EXPECT_NEAR(losses[true], losses[false], 1e-5 * std::fabs(losses[false]));
}

TEST(MultiTaskModel, ParameterCountFromTheShapeMatchesTheBuiltModel) {
  for (const ModelShape& shape : {ModelShape{7, 5, 3, {8, 4}}, ModelShape{1, 2, 2, {}}}) {
    MultiTaskModel m(shape, 2);
    const auto tables = static_cast<int64_t>(m.user_table().weights.size() +
                                             m.item_table().weights.size());
    EXPECT_EQ(parameter_count(shape), tables + m.rating_head().parameter_count());
  }
  // Shapes nobody could allocate (what a forged model file may claim) give a
  // saturated count rather than an overflowed one.
  const int64_t max = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(parameter_count(ModelShape{max / 2, 0, 4, {}}), max);
  EXPECT_EQ(parameter_count(ModelShape{1, 1, 4, {int64_t{1} << 32, int64_t{1} << 32}}), max);
}

TEST(MultiTaskModel, ZeroWeightTasksAreSkipped) {
  ModelShape shape{4, 4, 2, {3}};
  MultiTaskModel model(shape, 3);
  model.init(1);
  const int32_t u[] = {0, 1, 2}, m[] = {1, 2, 3};
  const float y[] = {1, 2, 3};
  const auto only_rank = model.compute_gradients({u, m, y, 3}, {1.0f, 0.0f});
  // The MSE of the head's predictions for these pairs (by the inference path).
  std::vector<float> p(3), scratch;
  model.predict_ratings(u, m, 3, p.data(), scratch);
  double mse = 0.0;
  for (int i = 0; i < 3; ++i) mse += (p[i] - y[i]) * (p[i] - y[i]) / 3.0;
  EXPECT_NEAR(only_rank.ranking, mse, 1e-6 * mse);
  EXPECT_EQ(only_rank.retrieval, 0.0);
  const auto only_ret = model.compute_gradients({u, m, y, 3}, {0.0f, 1.0f});
  EXPECT_EQ(only_ret.ranking, 0.0);
  // Summed cross-entropy over 3 examples with 3 columns each; with the Keras
  // init (|w| <= 0.05, dim 2) every score is within 2 x 0.05^2 = 0.005 of 0,
  // so each example's loss is log 3 within 2 x 0.005.
  EXPECT_NEAR(only_ret.retrieval, 3.0 * std::log(3.0), 3 * 0.01);
  EXPECT_DOUBLE_EQ(only_ret.total, only_ret.retrieval);
}

TEST(MultiTaskModel, PredictMatchesTrainingForward) {
  ModelShape shape{4, 4, 2, {3}};
  MultiTaskModel model(shape, 3);
  model.init(2);
  const int32_t u[] = {0, 1, 3}, m[] = {1, 2, 0};
  const float y[] = {0, 0, 0};
  // With only the ranking task, total = MSE against zero labels = mean(pred^2).
  const double mse = model.compute_gradients({u, m, y, 3}, {1.0f, 0.0f}).ranking;
  std::vector<float> pred(3), scratch;
  model.predict_ratings(u, m, 3, pred.data(), scratch);
  double expected = 0;
  for (float p : pred) expected += static_cast<double>(p) * p / 3.0;
  EXPECT_NEAR(mse, expected, 1e-9);
}

TEST(MultiTaskModel, InitIsKerasLikeAndSeeded) {
  ModelShape shape{50, 60, 8, {16}};
  MultiTaskModel a(shape, 2), b(shape, 2), c(shape, 2);
  a.init(5);
  b.init(5);
  c.init(6);
  EXPECT_EQ(a.user_table().weights, b.user_table().weights);
  EXPECT_NE(a.user_table().weights, c.user_table().weights);
  for (float v : a.item_table().weights) {
    EXPECT_GE(v, -0.05f);
    EXPECT_LT(v, 0.05f);
  }
}


// A third task: a binary head (BCE on label >= 0.5) beside retrieval and
// rating; the whole model's gradients, and with only the new task on.
ModelShape with_liked(ModelShape shape) {
  ExtraTaskSpec liked;
  liked.name = "liked";
  liked.label_threshold = 0.5f;
  shape.extra_tasks.push_back(liked);
  return shape;
}

TEST(MultiTaskModel, ExtraBinaryTaskGradientsMatchFiniteDifferences) {
  const int64_t n = 6;
  const int32_t users[] = {1, 4, 1, 0, 2, 1};
  const int32_t items[] = {5, 2, 3, 2, 0, 5};
  const float labels[] = {0.5f, 1.0f, 0.0f, 0.75f, 0.25f, 0.25f};
  for (float ranking : {0.7f, 0.0f}) {
    SCOPED_TRACE(ranking == 0.0f ? "liked and retrieval" : "three tasks");
    MultiTaskModel model(with_liked(kCheckedShape), n);
    init_checked_model(model);
    TaskWeights w{ranking, 1.3f};
    w.extra_count = 1;
    w.extra[0] = 0.9f;
    check_whole_model_gradients(model, {users, items, labels, n}, w);
    const StepLosses l = model.compute_gradients({users, items, labels, n}, w);
    EXPECT_GT(l.extra[0], 0.0);
    EXPECT_NEAR(l.total, (ranking != 0.0f ? 0.7 * l.ranking : 0.0) + 1.3 * l.retrieval +
                             static_cast<double>(0.9f) * l.extra[0],
                1e-4 * l.total);
  }
}

// A model with an extra task initialises and trains its first two tasks
// exactly as the model without it when the extra task's weight is 0: the
// new head draws from its own RNG stream and adds nothing.
TEST(MultiTaskModel, ExtraTaskWithWeightZeroLeavesTheOtherTasksBitIdentical) {
  const int64_t n = 5;
  const int32_t users[] = {1, 4, 1, 0, 2};
  const int32_t items[] = {5, 2, 3, 2, 0};
  const float labels[] = {0.5f, 1.0f, 0.0f, 0.75f, 0.25f};
  MultiTaskModel two(kCheckedShape, n), three(with_liked(kCheckedShape), n);
  two.init(5);
  three.init(5);
  EXPECT_EQ(two.user_table().weights, three.user_table().weights);
  const auto a = two.dense_parameter_values(), b = three.dense_parameter_values();
  ASSERT_EQ(b.size(), a.size() + 4);  // the liked head's two layers' kernels and biases, last
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_TRUE(std::equal(a[i].value, a[i].value + a[i].size, b[i].value)) << a[i].name;
  }
  EXPECT_EQ(b[a.size()].name.rfind("liked_head.", 0), 0u) << b[a.size()].name;
  TaskWeights w3{0.7f, 1.3f};
  w3.extra_count = 1;  // weight 0
  const StepLosses l2 = two.compute_gradients({users, items, labels, n}, {0.7f, 1.3f});
  const StepLosses l3 = three.compute_gradients({users, items, labels, n}, w3);
  EXPECT_EQ(l2.total, l3.total);
  EXPECT_EQ(l2.ranking, l3.ranking);
  EXPECT_EQ(l2.retrieval, l3.retrieval);
  for (int64_t s = 0; s < two.user_grad().count(); ++s)
    EXPECT_TRUE(std::equal(two.user_grad().grad(s), two.user_grad().grad(s) + 3, three.user_grad().grad(s)));
  // Only trained heads are updated: the liked head's parameters are not.
  const std::vector<bool> trained = three.trained_dense_parameters(w3);
  ASSERT_EQ(trained.size(), b.size());
  for (size_t i = 0; i < b.size(); ++i) EXPECT_EQ(trained[i], i < a.size()) << b[i].name;
  TaskWeights retrieval_and_liked{0.0f, 1.0f};
  retrieval_and_liked.extra_count = 1;
  retrieval_and_liked.extra[0] = 1.0f;
  const std::vector<bool> t2 = three.trained_dense_parameters(retrieval_and_liked);
  for (size_t i = 0; i < b.size(); ++i) EXPECT_EQ(t2[i], i >= a.size()) << b[i].name;
}

// The binary head's prediction is the logit the training forward computes.
TEST(MultiTaskModel, ExtraTaskPredictionIsTheTrainingLogit) {
  const int64_t n = 4;
  const int32_t users[] = {1, 4, 1, 0};
  const int32_t items[] = {5, 2, 3, 2};
  MultiTaskModel model(with_liked(kCheckedShape), n);
  init_checked_model(model);
  std::vector<float> logits(n), scratch;
  model.predict_extra(0, users, items, n, logits.data(), scratch);
  // BCE of the logits against labels >= 0.5, as the step computes it.
  const float labels[] = {1.0f, 0.0f, 0.5f, 0.25f};
  double expected = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double z = logits[i], y = labels[i] >= 0.5f ? 1.0 : 0.0;
    expected += std::log1p(std::exp(z)) - y * z;
  }
  TaskWeights w{0.0f, 0.0f};
  w.extra_count = 1;
  w.extra[0] = 1.0f;
  const StepLosses l = model.compute_gradients({users, items, labels, n}, w);
  EXPECT_NEAR(l.extra[0], expected / n, 1e-6);
  EXPECT_NEAR(l.total, l.extra[0], 1e-12);
}

TEST(BceSlice, GradientMatchesFiniteDifferences) {
  std::vector<float> z = {-3.0f, -0.2f, 0.0f, 0.7f, 2.5f, 40.0f};
  const std::vector<float> labels = {0.0f, 1.0f, 0.5f, 0.25f, 1.0f, 0.0f};
  const std::vector<float> weights = {1.0f, 2.0f, 0.5f, 1.0f, 1.5f, 1.0f};
  const int64_t n = static_cast<int64_t>(z.size());
  std::vector<float> grad(z.size());
  for (const float* w : {static_cast<const float*>(nullptr), weights.data()}) {
    bce_slice_sum_and_backward(z.data(), labels.data(), w, n, 10, 0.5f, 0.8f, grad.data());
    std::vector<float> scratch(z.size());
    auto loss = [&] {
      return 0.8 * bce_slice_sum_and_backward(z.data(), labels.data(), w, n, 10, 0.5f, 1.0f, scratch.data()) / 10.0;
    };
    testing::expect_gradient_matches(loss, z.data(), grad.data(), n, "logits", 1e-2f, 1e-5, 1e-3);
  }
  // Hand-computed: z = 0, y = 1: log 2, gradient (1/2 - 1) / n.
  const float zero = 0.0f, one = 1.0f;
  float g = 0.0f;
  EXPECT_NEAR(bce_slice_sum_and_backward(&zero, &one, nullptr, 1, 2, 0.5f, 1.0f, &g), std::log(2.0), 1e-12);
  EXPECT_FLOAT_EQ(g, -0.25f);
}

}  // namespace
}  // namespace tandem
