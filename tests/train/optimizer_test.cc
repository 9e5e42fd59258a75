// Adam, SGD with momentum, L2 penalties and learning-rate schedules: hand-
// computed steps, sparse (lazy) row updates against the dense rule, and the
// configuration's checks.
#include "tandem/train/optimizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "tandem/core/error.h"
#include "tandem/train/adam.h"
#include "tandem/train/lr_schedule.h"
#include "tandem/train/momentum.h"

namespace tandem {
namespace {

TEST(Adam, HandComputedSteps) {
  // lr 0.1, beta1 0.9, beta2 0.999, eps 1e-7; m = v = 0.
  float w = 1.0f, m = 0.0f, v = 0.0f;
  const float g1 = 0.5f;
  adam_update(make_adam_step(0.1f, 0.9f, 0.999f, 1e-7f, 0.0f, 1), &w, &m, &v, &g1, 1);
  // t = 1: alpha = 0.1 * sqrt(1 - 0.999) / (1 - 0.9) = sqrt(0.001)
  //        m = 0.1 * 0.5 = 0.05 ; v = 0.001 * 0.25 = 0.00025
  //        w = 1 - alpha * 0.05 / (sqrt(0.00025) + 1e-7)   (about 1 - 0.1: Adam's first step ~ lr)
  const double alpha1 = std::sqrt(0.001);
  const double w1 = 1.0 - alpha1 * 0.05 / (std::sqrt(0.00025) + 1e-7);
  // (float arithmetic: 1 - 0.999f is 0.00099998713, hence the relative 5e-5 on v)
  EXPECT_NEAR(m, 0.05, 1e-7);
  EXPECT_NEAR(v, 0.00025, 0.00025 * 5e-5);
  EXPECT_NEAR(w, w1, 1e-6);
  EXPECT_NEAR(w, 0.9, 1e-5);
  const float g2 = -1.0f;
  adam_update(make_adam_step(0.1f, 0.9f, 0.999f, 1e-7f, 0.0f, 2), &w, &m, &v, &g2, 1);
  // t = 2: alpha = 0.1 * sqrt(1 - 0.999^2) / (1 - 0.9^2) = 0.1 * sqrt(0.001999) / 0.19
  //        m = 0.05 + (-1 - 0.05) * 0.1 = -0.055
  //        v = 0.00025 + (1 - 0.00025) * 0.001 = 0.00124975
  //        w = w1 + alpha * 0.055 / (sqrt(0.00124975) + 1e-7)
  const double alpha2 = 0.1 * std::sqrt(0.001999) / 0.19;
  EXPECT_NEAR(m, -0.055, 1e-7);
  EXPECT_NEAR(v, 0.00124975, 0.00124975 * 5e-5);
  EXPECT_NEAR(w, w1 + alpha2 * 0.055 / (std::sqrt(0.00124975) + 1e-7), 1e-6);
}

TEST(Adam, L2AddsTheWeightToTheGradient) {
  float w = 2.0f, m = 0.0f, v = 0.0f;
  const float g = 0.0f;
  adam_update(make_adam_step(0.1f, 0.9f, 0.999f, 1e-7f, 0.25f, 1), &w, &m, &v, &g, 1);
  // g' = 0 + 0.25 * 2 = 0.5 ; m = 0.05 ; v = 0.00025 ; as in HandComputedSteps from w = 2.
  EXPECT_NEAR(m, 0.05, 1e-7);
  EXPECT_NEAR(w, 2.0 - std::sqrt(0.001) * 0.05 / (std::sqrt(0.00025) + 1e-7), 1e-6);
}

TEST(Momentum, HandComputedSteps) {
  const MomentumStep plain{0.1f, 0.0f, false, 0.0f};
  float w = 1.0f;
  const float g1 = 0.5f, g2 = -1.0f;
  momentum_update(plain, &w, nullptr, &g1, 1);
  EXPECT_FLOAT_EQ(w, 0.95f);  // 1 - 0.1 * 0.5

  const MomentumStep classical{0.1f, 0.9f, false, 0.0f};
  float u = 0.0f;
  w = 1.0f;
  momentum_update(classical, &w, &u, &g1, 1);
  // u = 0.9 * 0 - 0.1 * 0.5 = -0.05 ; w = 1 - 0.05 = 0.95
  EXPECT_FLOAT_EQ(u, -0.05f);
  EXPECT_FLOAT_EQ(w, 0.95f);
  momentum_update(classical, &w, &u, &g2, 1);
  // u = 0.9 * -0.05 + 0.1 = 0.055 ; w = 0.95 + 0.055 = 1.005
  EXPECT_FLOAT_EQ(u, 0.055f);
  EXPECT_FLOAT_EQ(w, 1.005f);

  const MomentumStep nesterov{0.1f, 0.9f, true, 0.0f};
  u = 0.0f;
  w = 1.0f;
  momentum_update(nesterov, &w, &u, &g1, 1);
  // u = -0.05 ; w = 1 + 0.9 * -0.05 - 0.05 = 0.905
  EXPECT_FLOAT_EQ(u, -0.05f);
  EXPECT_FLOAT_EQ(w, 0.905f);
  momentum_update(nesterov, &w, &u, &g2, 1);
  // u = 0.055 ; w = 0.905 + 0.9 * 0.055 + 0.1 = 1.0545
  EXPECT_FLOAT_EQ(u, 0.055f);
  EXPECT_FLOAT_EQ(w, 1.0545f);
}

// A 5-row table, its gradient for a batch of ids, and the same gradient
// scattered densely over the whole table.
struct RowCase {
  EmbeddingTable table{5, 3};
  RowGradient grad{5, 3, 8};
  std::vector<float> dense_grad = std::vector<float>(15, 0.0f);

  RowCase() {
    for (size_t i = 0; i < table.weights.size(); ++i) table.weights[i] = 0.1f * static_cast<float>(i) - 0.7f;
  }
  void batch(const std::vector<int32_t>& ids, float seed) {
    std::vector<float> g(ids.size() * 3);
    for (size_t i = 0; i < g.size(); ++i) g[i] = std::sin(seed + static_cast<float>(i));
    grad.assign(ids.data(), g.data(), static_cast<int64_t>(ids.size()));
    std::fill(dense_grad.begin(), dense_grad.end(), 0.0f);
    for (int64_t s = 0; s < grad.count(); ++s)
      for (int j = 0; j < 3; ++j) dense_grad[grad.rows()[s] * 3 + j] += grad.grad(s)[j];
  }
};

// Rows touched at every step (duplicates included): the lazy sparse step is
// the dense rule exactly, for Adam and momentum.
TEST(LazyUpdates, RowsTouchedEveryStepEqualTheDenseRule) {
  const std::vector<std::vector<int32_t>> batches = {{2, 0, 4, 1, 3, 0}, {4, 3, 2, 1, 0, 2, 2}, {1, 0, 3, 2, 4}};
  {
    RowCase c;
    EmbeddingTable dense = c.table;
    std::vector<float> m(15, 0.0f), v(15, 0.0f), dm = m, dv = v;
    for (size_t t = 0; t < batches.size(); ++t) {
      c.batch(batches[t], static_cast<float>(t));
      const AdamStep s = make_adam_step(0.05f, 0.9f, 0.999f, 1e-7f, 0.0f, static_cast<int64_t>(t) + 1);
      adam_update_rows(s, c.table, m, v, c.grad);
      adam_update(s, dense.weights.data(), dm.data(), dv.data(), c.dense_grad.data(), 15);
      ASSERT_EQ(c.table.weights, dense.weights) << "Adam, step " << t;
      ASSERT_EQ(m, dm);
      ASSERT_EQ(v, dv);
    }
  }
  for (bool nesterov : {false, true}) {
    RowCase c;
    EmbeddingTable dense = c.table;
    std::vector<float> u(15, 0.0f), du = u;
    const MomentumStep s{0.05f, 0.9f, nesterov, 0.0f};
    for (size_t t = 0; t < batches.size(); ++t) {
      c.batch(batches[t], static_cast<float>(t));
      momentum_update_rows(s, c.table, u.data(), c.grad);
      momentum_update(s, dense.weights.data(), du.data(), c.dense_grad.data(), 15);
      ASSERT_EQ(c.table.weights, dense.weights) << "momentum, step " << t;
      ASSERT_EQ(u, du);
    }
  }
}

// A row the batch did not touch keeps its weights and state, where the
// dense rule (g = 0) would still move it: that is the lazy choice.
TEST(LazyUpdates, UntouchedRowsDoNotMove) {
  RowCase c;
  std::vector<float> m(15, 0.0f), v(15, 0.0f), u(15, 0.0f);
  c.batch({0, 1, 2, 3, 4}, 0.5f);  // no zero gradient: every value gets a moment
  adam_update_rows(make_adam_step(0.05f, 0.9f, 0.999f, 1e-7f, 0.0f, 1), c.table, m, v, c.grad);
  EmbeddingTable mom = c.table;
  momentum_update_rows({0.05f, 0.9f, false, 0.0f}, mom, u.data(), c.grad);

  const EmbeddingTable before = c.table, mom_before = mom;
  const std::vector<float> m_before = m, v_before = v, u_before = u;
  c.batch({1, 3, 1}, 1.0f);  // rows 0, 2, 4 untouched
  const AdamStep s2 = make_adam_step(0.05f, 0.9f, 0.999f, 1e-7f, 0.0f, 2);
  std::vector<float> dm = m, dv = v;
  EmbeddingTable dense = c.table;
  adam_update_rows(s2, c.table, m, v, c.grad);
  adam_update(s2, dense.weights.data(), dm.data(), dv.data(), c.dense_grad.data(), 15);
  momentum_update_rows({0.05f, 0.9f, false, 0.0f}, mom, u.data(), c.grad);
  for (int r : {0, 2, 4}) {
    for (int j = 0; j < 3; ++j) {
      const int i = r * 3 + j;
      EXPECT_EQ(c.table.weights[i], before.weights[i]) << r;
      EXPECT_EQ(m[i], m_before[i]);
      EXPECT_EQ(v[i], v_before[i]);
      EXPECT_EQ(mom.weights[i], mom_before.weights[i]);
      EXPECT_EQ(u[i], u_before[i]);
      EXPECT_NE(dense.weights[i], before.weights[i]) << "dense Adam moves untouched row " << r;
    }
  }
  for (int r : {1, 3}) {
    EXPECT_NE(c.table.weights[r * 3], before.weights[r * 3]);
    EXPECT_EQ(c.table.weights[r * 3], dense.weights[r * 3]);  // touched rows: the dense rule
    EXPECT_NE(mom.weights[r * 3], mom_before.weights[r * 3]);
  }
}

// embedding_l2 adds l2 * w once per distinct row the batch touched, however
// many times its id occurs; dense_l2 to the dense parameters.
TEST(OptimizerL2, EmbeddingPenaltyOncePerDistinctTouchedRow) {
  OptimizerConfig cfg;
  cfg.kind = OptimizerKind::kSgd;  // plain SGD: w -= lr * (g + l2 * w)
  cfg.learning_rate = 0.5f;
  cfg.embedding_l2 = 0.1f;
  cfg.dense_l2 = 0.2f;
  Optimizer opt(cfg);
  EXPECT_TRUE(opt.slot_names().empty());
  opt.begin_step(0, 1);

  EmbeddingTable table(3, 1);
  table.weights = {1.0f, 2.0f, 4.0f};
  RowGradient grad(3, 1, 4);
  const std::vector<int32_t> ids = {1, 2, 1};
  const std::vector<float> g = {0.25f, 0.5f, 0.75f};
  grad.assign(ids.data(), g.data(), 3);
  OptimizerSlots none;
  opt.update_rows(table, grad, none);
  // row 0: untouched, no penalty: 1
  // row 1: g = 0.25 + 0.75 = 1, penalty 0.1 * 2 once: 2 - 0.5 * (1 + 0.2) = 1.4
  // row 2: g = 0.5, penalty 0.1 * 4: 4 - 0.5 * (0.5 + 0.4) = 3.55
  EXPECT_FLOAT_EQ(table.weights[0], 1.0f);
  EXPECT_FLOAT_EQ(table.weights[1], 1.4f);
  EXPECT_FLOAT_EQ(table.weights[2], 3.55f);

  std::vector<float> w = {1.0f, -3.0f}, dg = {0.0f, 1.0f};
  opt.update_dense({"p", w.data(), dg.data(), 2}, none);
  // 1 - 0.5 * (0 + 0.2 * 1) = 0.9 ; -3 - 0.5 * (1 + 0.2 * -3) = -3.2
  EXPECT_FLOAT_EQ(w[0], 0.9f);
  EXPECT_FLOAT_EQ(w[1], -3.2f);
}

TEST(Optimizer, SlotsPerKind) {
  OptimizerConfig c;
  EXPECT_EQ(Optimizer(c).slot_names(), std::vector<std::string>{"adagrad"});
  EXPECT_EQ(Optimizer(c).make_slots(3), (OptimizerSlots{{0.1f, 0.1f, 0.1f}}));
  c.kind = OptimizerKind::kAdam;
  EXPECT_EQ(Optimizer(c).slot_names(), (std::vector<std::string>{"adam_m", "adam_v"}));
  EXPECT_EQ(Optimizer(c).make_slots(2), (OptimizerSlots{{0.0f, 0.0f}, {0.0f, 0.0f}}));
  c.kind = OptimizerKind::kSgd;
  EXPECT_TRUE(Optimizer(c).slot_names().empty());
  c.momentum = 0.9f;
  EXPECT_EQ(Optimizer(c).slot_names(), std::vector<std::string>{"sgd_momentum"});
}

// Adam through the Optimizer: the bias correction follows the step index.
TEST(Optimizer, AdamUsesTheGlobalStepForBiasCorrection) {
  OptimizerConfig c;
  c.kind = OptimizerKind::kAdam;
  c.learning_rate = 0.1f;
  Optimizer opt(c);
  std::vector<float> w = {1.0f}, g = {0.5f};
  OptimizerSlots slots = opt.make_slots(1);
  // Step index 9 (the 10th step) on fresh moments: alpha = 0.1 sqrt(1 - 0.999^10) / (1 - 0.9^10).
  opt.begin_step(9, 100);
  opt.update_dense({"p", w.data(), g.data(), 1}, slots);
  const double alpha = 0.1 * std::sqrt(1 - std::pow(0.999, 10)) / (1 - std::pow(0.9, 10));
  EXPECT_NEAR(w[0], 1.0 - alpha * 0.05 / (std::sqrt(0.00025) + 1e-7), 1e-6);
}

TEST(LrSchedule, ValuesAtChosenSteps) {
  const float base = 0.1f;
  LrSchedule s;
  EXPECT_EQ(learning_rate_at(s, base, 57, 100), base);  // constant: exactly the rate

  s.kind = LrScheduleKind::kLinearWarmup;
  s.warmup_steps = 4;
  EXPECT_FLOAT_EQ(learning_rate_at(s, base, 0, 100), 0.025f);  // 0.1 * 1/4
  EXPECT_FLOAT_EQ(learning_rate_at(s, base, 2, 100), 0.075f);  // 0.1 * 3/4
  EXPECT_EQ(learning_rate_at(s, base, 3, 100), base);
  EXPECT_EQ(learning_rate_at(s, base, 50, 100), base);

  s = LrSchedule{};
  s.kind = LrScheduleKind::kCosine;  // over the whole run (100 steps), to 0
  EXPECT_FLOAT_EQ(learning_rate_at(s, base, 0, 100), 0.1f);
  EXPECT_FLOAT_EQ(learning_rate_at(s, base, 25, 100), 0.1f * (1 + std::cos(std::numbers::pi / 4)) / 2);
  EXPECT_FLOAT_EQ(learning_rate_at(s, base, 50, 100), 0.05f);
  EXPECT_NEAR(learning_rate_at(s, base, 100, 100), 0.0f, 1e-9);
  s.warmup_steps = 10;
  s.min_lr_fraction = 0.1f;
  EXPECT_FLOAT_EQ(learning_rate_at(s, base, 4, 100), 0.05f);   // warmup: 0.1 * 5/10
  EXPECT_FLOAT_EQ(learning_rate_at(s, base, 10, 100), 0.1f);   // decay starts
  EXPECT_FLOAT_EQ(learning_rate_at(s, base, 55, 100), 0.055f);  // halfway over 90: 0.1 (0.1 + 0.9 / 2)
  EXPECT_FLOAT_EQ(learning_rate_at(s, base, 100, 100), 0.01f);  // floor
  EXPECT_FLOAT_EQ(learning_rate_at(s, base, 500, 100), 0.01f);  // past the end (an extended run)
  s.decay_steps = 20;  // an explicit length no longer depends on the run's
  EXPECT_FLOAT_EQ(learning_rate_at(s, base, 20, 100), 0.055f);
  EXPECT_FLOAT_EQ(learning_rate_at(s, base, 20, 7), 0.055f);

  s = LrSchedule{};
  s.kind = LrScheduleKind::kExponential;
  s.decay_steps = 10;
  s.decay_rate = 0.5f;
  EXPECT_FLOAT_EQ(learning_rate_at(s, base, 0, 100), 0.1f);
  EXPECT_FLOAT_EQ(learning_rate_at(s, base, 5, 100), 0.1f * std::sqrt(0.5f));
  EXPECT_FLOAT_EQ(learning_rate_at(s, base, 10, 100), 0.05f);
  s.min_lr_fraction = 0.3f;
  EXPECT_FLOAT_EQ(learning_rate_at(s, base, 30, 100), 0.03f);  // 0.125 floored at 0.3

  s = LrSchedule{};
  s.kind = LrScheduleKind::kStep;
  s.decay_steps = 10;
  s.decay_rate = 0.5f;
  EXPECT_FLOAT_EQ(learning_rate_at(s, base, 9, 100), 0.1f);
  EXPECT_FLOAT_EQ(learning_rate_at(s, base, 10, 100), 0.05f);
  EXPECT_FLOAT_EQ(learning_rate_at(s, base, 25, 100), 0.025f);
  s.warmup_steps = 5;
  EXPECT_FLOAT_EQ(learning_rate_at(s, base, 0, 100), 0.02f);
  EXPECT_FLOAT_EQ(learning_rate_at(s, base, 14, 100), 0.1f);  // t = 9
  EXPECT_FLOAT_EQ(learning_rate_at(s, base, 15, 100), 0.05f);  // t = 10

  EXPECT_FALSE(schedule_depends_on_total_steps(s));
  s.kind = LrScheduleKind::kCosine;
  s.decay_steps = 0;
  EXPECT_TRUE(schedule_depends_on_total_steps(s));
}

TEST(OptimizerConfig, RefusesBadValuesNamingThem) {
  auto error_of = [](OptimizerConfig c) -> std::string {
    try {
      c.validate();
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  OptimizerConfig ok;
  EXPECT_EQ(error_of(ok), "");
  auto with = [&](auto change) {
    OptimizerConfig c;
    change(c);
    return error_of(c);
  };
  EXPECT_NE(with([](auto& c) { c.learning_rate = 0; }).find("learning rate"), std::string::npos);
  EXPECT_NE(with([](auto& c) { c.beta1 = 1.0f; }).find("beta1"), std::string::npos);
  EXPECT_NE(with([](auto& c) { c.beta2 = std::nanf(""); }).find("beta2"), std::string::npos);
  EXPECT_NE(with([](auto& c) { c.momentum = -0.1f; }).find("momentum"), std::string::npos);
  EXPECT_NE(with([](auto& c) { c.nesterov = true; }).find("Nesterov"), std::string::npos);
  EXPECT_NE(with([](auto& c) { c.embedding_l2 = -1; }).find("embedding_l2"), std::string::npos);
  EXPECT_NE(with([](auto& c) { c.dense_l2 = INFINITY; }).find("dense_l2"), std::string::npos);
  EXPECT_NE(with([](auto& c) { c.schedule.kind = LrScheduleKind::kLinearWarmup; }).find("warmup_steps"),
            std::string::npos);
  EXPECT_NE(with([](auto& c) { c.schedule.kind = LrScheduleKind::kStep; }).find("decay_steps"),
            std::string::npos);
  EXPECT_NE(with([](auto& c) { c.schedule.decay_rate = 1.5f; }).find("decay_rate"), std::string::npos);
  EXPECT_NE(with([](auto& c) { c.schedule.min_lr_fraction = 2; }).find("min_lr_fraction"), std::string::npos);
  EXPECT_THROW(parse_optimizer_kind("rmsprop"), Error);
  EXPECT_THROW(parse_lr_schedule("linear"), Error);
  for (const auto& n : optimizer_names()) EXPECT_EQ(to_string(parse_optimizer_kind(n)), n);
  for (const auto& n : lr_schedule_names()) EXPECT_EQ(to_string(parse_lr_schedule(n)), n);
}

}  // namespace
}  // namespace tandem
