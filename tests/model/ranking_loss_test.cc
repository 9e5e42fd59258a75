// The ranking losses other than MSE: hand-computed values on tiny batches
// (groups with ties, single examples, all-zero labels), finite-difference
// gradients with respect to the predictions, and through the whole model.
#include "tandem/model/ranking_loss.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "gradient_check.h"
#include "tandem/core/error.h"
#include "tandem/core/random.h"
#include "tandem/core/thread_pool.h"
#include "tandem/model/multitask_model.h"

namespace tandem {
namespace {

double softplus(double x) { return std::log1p(std::exp(x)); }
double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

RankingLossSpec spec_of(RankingLossKind k, float margin = 1.0f, float threshold = 0.0f) {
  RankingLossSpec s;
  s.kind = k;
  s.margin = margin;
  s.label_threshold = threshold;
  return s;
}

TEST(RankingLoss, NamesRoundTripAndUnknownIsAnError) {
  for (const auto& name : ranking_loss_names()) EXPECT_EQ(to_string(parse_ranking_loss(name)), name);
  EXPECT_EQ(ranking_loss_names().size(), 5u);
  try {
    parse_ranking_loss("listnet");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown ranking loss 'listnet'"), std::string::npos);
  }
}

TEST(RankingLoss, BceHandComputed) {
  // Threshold 0.75 on the label scale: labels 1 and 0.75 are positives (>=).
  const float p[] = {0.0f, 2.0f, -1.0f}, y[] = {1.0f, 0.5f, 0.75f};
  RankingLoss loss(3);
  float g[3];
  const double l = loss.forward_backward(spec_of(RankingLossKind::kBce, 1.0f, 0.75f), p, y, nullptr,
                                         nullptr, 3, 2.0f, g);
  const double expected = (std::log(2.0) + std::log1p(std::exp(2.0)) + std::log1p(std::exp(1.0))) / 3.0;
  EXPECT_NEAR(l, expected, 1e-12);
  EXPECT_NEAR(g[0], 2.0 * (0.5 - 1.0) / 3.0, 1e-7);
  EXPECT_NEAR(g[1], 2.0 * sigmoid(2.0) / 3.0, 1e-7);
  EXPECT_NEAR(g[2], 2.0 * (sigmoid(-1.0) - 1.0) / 3.0, 1e-7);
  // Weights scale each example's term; the mean stays over n.
  const float w[] = {0.0f, 1.0f, 3.0f};
  const double lw = loss.forward_backward(spec_of(RankingLossKind::kBce, 1.0f, 0.75f), p, y, nullptr,
                                          w, 3, 1.0f, g);
  EXPECT_NEAR(lw, (std::log1p(std::exp(2.0)) + 3.0 * std::log1p(std::exp(1.0))) / 3.0, 1e-12);
  EXPECT_EQ(g[0], 0.0f);
  // Large logits stay finite.
  const float big[] = {200.0f, -200.0f}, yb[] = {0.0f, 1.0f};
  EXPECT_NEAR(loss.forward_backward(spec_of(RankingLossKind::kBce, 1.0f, 0.5f), big, yb, nullptr,
                                    nullptr, 2, 1.0f, g),
              200.0, 1e-9);
  EXPECT_NEAR(g[0], 0.5f, 1e-7);
  EXPECT_NEAR(g[1], -0.5f, 1e-7);
}

// Users 7, 3, 7, 7, 3, 5. User 7: examples 0 (y 5), 2 (y 3), 3 (y 5): pairs
// (0 > 2) and (3 > 2); 0 and 3 tie, no pair. User 3: (4 > 1). User 5 has a
// single example: no pair. P = 3.
const int32_t kUsers[] = {7, 3, 7, 7, 3, 5};
const float kStars[] = {5, 2, 3, 5, 4, 1};
const float kScores[] = {1.0f, 0.5f, 0.0f, -1.0f, 2.0f, 3.0f};

TEST(RankingLoss, PairwiseLogisticHandComputed) {
  RankingLoss loss(6);
  float g[6];
  const double l = loss.forward_backward(spec_of(RankingLossKind::kPairwiseLogistic), kScores,
                                         kStars, kUsers, nullptr, 6, 1.0f, g);
  EXPECT_EQ(loss.last_terms(), 3);
  // d = s_hi - s_lo: 1 - 0 = 1, -1 - 0 = -1, 2 - 0.5 = 1.5.
  EXPECT_NEAR(l, (softplus(-1.0) + softplus(1.0) + softplus(-1.5)) / 3.0, 1e-12);
  EXPECT_NEAR(g[0], -sigmoid(-1.0) / 3.0, 1e-7);
  EXPECT_NEAR(g[3], -sigmoid(1.0) / 3.0, 1e-7);
  EXPECT_NEAR(g[2], (sigmoid(-1.0) + sigmoid(1.0)) / 3.0, 1e-7);
  EXPECT_NEAR(g[4], -sigmoid(-1.5) / 3.0, 1e-7);
  EXPECT_NEAR(g[1], sigmoid(-1.5) / 3.0, 1e-7);
  EXPECT_EQ(g[5], 0.0f);  // the single example
}

TEST(RankingLoss, PairwiseHingeHandComputed) {
  RankingLoss loss(6);
  float g[6];
  // Margin 1: only the pair (3 > 2), d = -1, violates it: loss 2 of 3 pairs.
  const double l = loss.forward_backward(spec_of(RankingLossKind::kPairwiseHinge, 1.0f), kScores,
                                         kStars, kUsers, nullptr, 6, 1.0f, g);
  EXPECT_NEAR(l, 2.0 / 3.0, 1e-12);
  const float want[] = {0, 0, 1.0f / 3, -1.0f / 3, 0, 0};
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(g[i], want[i], 1e-7) << i;
  // Margin 2: (0 > 2) with d = 1 and (4 > 1) with d = 1.5 now count too.
  const double l2 = loss.forward_backward(spec_of(RankingLossKind::kPairwiseHinge, 2.0f), kScores,
                                          kStars, kUsers, nullptr, 6, 1.0f, g);
  EXPECT_NEAR(l2, (1.0 + 3.0 + 0.5) / 3.0, 1e-12);
  // Weights: a pair carries its better-rated example's weight (0 -> 0, 3 -> 2, 4 -> 0.5).
  const float w[] = {0.0f, 9.0f, 9.0f, 2.0f, 0.5f, 9.0f};
  const double lw = loss.forward_backward(spec_of(RankingLossKind::kPairwiseHinge, 2.0f), kScores,
                                          kStars, kUsers, w, 6, 1.0f, g);
  EXPECT_NEAR(lw, (0.0 * 1.0 + 2.0 * 3.0 + 0.5 * 0.5) / 3.0, 1e-12);
}

TEST(RankingLoss, PairwiseWithoutPairsIsZero) {
  // Every user's examples tie, or stand alone.
  const int32_t u[] = {1, 1, 2, 3, 3};
  const float y[] = {4, 4, 1, 2, 2}, p[] = {0.3f, -2.0f, 5.0f, 1.0f, 0.0f};
  RankingLoss loss(5);
  for (auto k : {RankingLossKind::kPairwiseLogistic, RankingLossKind::kPairwiseHinge}) {
    float g[5] = {7, 7, 7, 7, 7};
    EXPECT_EQ(loss.forward_backward(spec_of(k), p, y, u, nullptr, 5, 1.0f, g), 0.0);
    EXPECT_EQ(loss.last_terms(), 0);
    for (float v : g) EXPECT_EQ(v, 0.0f);
  }
}

TEST(RankingLoss, SoftmaxListwiseHandComputed) {
  // User 7: labels 1, 0.5, 0 on scores 1, 0, -1 (G = 1.5). User 3: labels all
  // 0, left out. User 5: a single example, left out. U = 1.
  const float y[] = {1.0f, 0.0f, 0.5f, 0.0f, 0.0f, 1.0f};
  RankingLoss loss(6);
  float g[6];
  const double l = loss.forward_backward(spec_of(RankingLossKind::kSoftmaxListwise), kScores, y,
                                         kUsers, nullptr, 6, 1.0f, g);
  EXPECT_EQ(loss.last_terms(), 1);
  const double z = std::exp(1.0) + 1.0 + std::exp(-1.0), lse = std::log(z);
  EXPECT_NEAR(l, 1.0 * (lse - 1.0) + 0.5 * (lse - 0.0), 1e-12);
  EXPECT_NEAR(g[0], 1.5 * std::exp(1.0) / z - 1.0, 1e-6);
  EXPECT_NEAR(g[2], 1.5 * 1.0 / z - 0.5, 1e-6);
  EXPECT_NEAR(g[3], 1.5 * std::exp(-1.0) / z, 1e-6);
  EXPECT_EQ(g[1], 0.0f);
  EXPECT_EQ(g[4], 0.0f);
  EXPECT_EQ(g[5], 0.0f);
  // Two users with lists: the mean over U = 2. User 3 now has labels 0, 1
  // on scores 0.5, 2: its loss is log(e^0.5 + e^2) - 2.
  const float y2[] = {1.0f, 0.0f, 0.5f, 0.0f, 1.0f, 1.0f};
  const double l2 = loss.forward_backward(spec_of(RankingLossKind::kSoftmaxListwise), kScores, y2,
                                          kUsers, nullptr, 6, 1.0f, g);
  EXPECT_EQ(loss.last_terms(), 2);
  EXPECT_NEAR(l2, (l + std::log(std::exp(0.5) + std::exp(2.0)) - 2.0) / 2.0, 1e-12);
  // A negative label is no gain: same as 0.
  const float y3[] = {1.0f, -0.125f, 0.5f, -0.125f, -0.125f, 1.0f};
  EXPECT_NEAR(loss.forward_backward(spec_of(RankingLossKind::kSoftmaxListwise), kScores, y3, kUsers,
                                    nullptr, 6, 1.0f, g),
              l, 1e-12);
}

TEST(RankingLoss, RejectsABatchBeyondCapacity) {
  RankingLoss loss(2);
  const float p[3] = {}, y[3] = {};
  const int32_t u[3] = {};
  EXPECT_THROW(loss.forward_backward(spec_of(RankingLossKind::kBce), p, y, u, nullptr, 3, 1.0f, nullptr),
               Error);
}

// Random batches: a few users with several examples each, star labels with
// ties. Gradients of scale * L against central differences in the predictions.
void check_prediction_gradients(RankingLossKind kind, bool weighted, uint64_t seed) {
  const int64_t n = 23;
  Rng rng(seed);
  std::vector<int32_t> users(n);
  std::vector<float> y(n), p(n), w(n), g(n);
  for (int64_t i = 0; i < n; ++i) {
    users[i] = static_cast<int32_t>(rng.below(4)) * 10;
    y[i] = static_cast<float>(1 + rng.below(5)) / 5.0f;
    p[i] = rng.uniform(-2, 2);
    w[i] = weighted ? rng.uniform(0.1f, 2.0f) : 1.0f;
  }
  const RankingLossSpec spec = spec_of(kind, 0.7f, 0.6f);
  if (kind == RankingLossKind::kPairwiseHinge) {
    // Keep every pair's margin violation away from the hinge's kink, where
    // central differences straddle the corner.
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j)
        if (users[i] == users[j] && y[i] > y[j] && std::fabs(spec.margin - (p[i] - p[j])) < 0.02f)
          p[i] += 0.05f;
  }
  RankingLoss loss(n);
  const float scale = 0.9f;
  loss.forward_backward(spec, p.data(), y.data(), users.data(), weighted ? w.data() : nullptr, n,
                        scale, g.data());
  EXPECT_GT(loss.last_terms(), 0);
  RankingLoss again(n);
  auto value = [&] {
    return scale * again.forward_backward(spec, p.data(), y.data(), users.data(),
                                          weighted ? w.data() : nullptr, n, 1.0f, nullptr);
  };
  testing::expect_gradient_matches(value, p.data(), g.data(), n,
                                   to_string(kind) + (weighted ? " weighted" : ""), 1e-3f, 1e-5, 1e-3);
}

TEST(RankingLoss, GradientsMatchFiniteDifferences) {
  for (auto kind : {RankingLossKind::kMse, RankingLossKind::kBce, RankingLossKind::kPairwiseLogistic,
                    RankingLossKind::kPairwiseHinge, RankingLossKind::kSoftmaxListwise}) {
    for (bool weighted : {false, true}) {
      for (uint64_t seed : {3u, 8u}) check_prediction_gradients(kind, weighted, seed);
    }
  }
}

// Through the whole model: ranking loss plus retrieval, with respect to both
// embedding tables and the rating head (mse too, as the reference path).
void check_model_gradients(RankingLossKind kind) {
  ModelShape shape{5, 6, 3, {4}};
  const int64_t n = 7;
  MultiTaskModel model(shape, n);
  model.init(17);
  Rng rng(4);
  for (auto& v : model.user_table().weights) v = rng.uniform(-0.8f, 0.8f);
  for (auto& v : model.item_table().weights) v = rng.uniform(-0.8f, 0.8f);
  // (Biases stay 0: random ones put a ReLU pre-activation within the
  // finite-difference step of its kink, which fails MSE's check the same way.)
  RankingLossSpec spec = spec_of(kind, 1.0f, 0.6f);
  model.set_ranking_loss(spec);
  const int32_t users[] = {1, 4, 1, 0, 1, 4, 2};  // user 1 three times, 4 twice
  const int32_t items[] = {5, 2, 3, 2, 0, 1, 4};
  const float labels[] = {0.5f, 1.0f, 0.0f, 0.75f, 1.0f, 0.25f, 0.75f};
  const Batch batch{users, items, labels, n};
  const TaskWeights w{0.7f, 1.3f};

  auto total_loss = [&] { return model.compute_gradients(batch, w).total; };
  const StepLosses first = model.compute_gradients(batch, w);
  EXPECT_GT(first.ranking, 0.0) << to_string(kind);
  std::map<int32_t, std::vector<float>> ug, ig;
  for (int64_t s = 0; s < model.user_grad().count(); ++s)
    ug[model.user_grad().rows()[s]].assign(model.user_grad().grad(s), model.user_grad().grad(s) + 3);
  for (int64_t s = 0; s < model.item_grad().count(); ++s)
    ig[model.item_grad().rows()[s]].assign(model.item_grad().grad(s), model.item_grad().grad(s) + 3);
  std::vector<std::vector<float>> head;
  auto params = model.dense_parameters();
  for (const auto& p : params) head.emplace_back(p.grad, p.grad + p.size);

  const std::string what = to_string(kind) + " ";
  for (int32_t r = 0; r < 5; ++r) {
    std::vector<float> g = ug.count(r) ? ug[r] : std::vector<float>(3, 0.0f);
    testing::expect_gradient_matches(total_loss, model.user_table().row(r), g.data(), 3,
                                     what + "user row " + std::to_string(r), 1e-2f);
  }
  for (int32_t r = 0; r < 6; ++r) {
    std::vector<float> g = ig.count(r) ? ig[r] : std::vector<float>(3, 0.0f);
    testing::expect_gradient_matches(total_loss, model.item_table().row(r), g.data(), 3,
                                     what + "item row " + std::to_string(r), 1e-2f);
  }
  for (size_t i = 0; i < params.size(); ++i)
    testing::expect_gradient_matches(total_loss, params[i].value, head[i].data(), params[i].size,
                                     what + params[i].name, 1e-2f);
}

TEST(MultiTaskModelRankingLoss, GradientsMatchFiniteDifferences) {
  for (auto kind : {RankingLossKind::kMse, RankingLossKind::kBce, RankingLossKind::kPairwiseLogistic,
                    RankingLossKind::kPairwiseHinge, RankingLossKind::kSoftmaxListwise})
    check_model_gradients(kind);
}

// The step's ranking loss is the loss of the head's own predictions.
TEST(MultiTaskModelRankingLoss, StepLossIsTheLossOfThePredictions) {
  ModelShape shape{4, 4, 2, {3}};
  const int32_t u[] = {0, 1, 0, 1, 0}, m[] = {1, 2, 3, 0, 2};
  const float y[] = {1.0f, 0.25f, 0.5f, 0.75f, 0.0f};
  for (auto kind : {RankingLossKind::kBce, RankingLossKind::kPairwiseLogistic,
                    RankingLossKind::kPairwiseHinge, RankingLossKind::kSoftmaxListwise}) {
    MultiTaskModel model(shape, 5);
    model.init(2);
    const RankingLossSpec spec = spec_of(kind, 1.0f, 0.5f);
    model.set_ranking_loss(spec);
    const StepLosses l = model.compute_gradients({u, m, y, 5}, {1.0f, 0.0f});
    std::vector<float> pred(5), scratch;
    model.predict_ratings(u, m, 5, pred.data(), scratch);
    RankingLoss ref(5);
    EXPECT_NEAR(l.ranking, ref.forward_backward(spec, pred.data(), y, u, nullptr, 5, 1.0f, nullptr),
                1e-6)
        << to_string(kind);
    EXPECT_DOUBLE_EQ(l.total, l.ranking);
  }
}

// Split over workers (the loss sees every slice's predictions), a step equals
// the single-thread step up to float reassociation and repeats bit for bit.
TEST(MultiTaskModelRankingLoss, ParallelStepMatchesSerialAndIsDeterministic) {
  ModelShape shape{12, 50, 8, {16}};
  const int64_t n = 61;
  Rng rng(9);
  std::vector<int32_t> users(n), items(n);
  std::vector<float> labels(n);
  for (int64_t i = 0; i < n; ++i) {
    users[i] = static_cast<int32_t>(rng.below(12));
    items[i] = static_cast<int32_t>(rng.below(50));
    labels[i] = static_cast<float>(rng.below(5)) / 4.0f;
  }
  const Batch batch{users.data(), items.data(), labels.data(), n};
  for (auto kind : {RankingLossKind::kBce, RankingLossKind::kPairwiseLogistic,
                    RankingLossKind::kSoftmaxListwise}) {
    auto run = [&](int workers, std::vector<float>& grads) {
      MultiTaskModel model(shape, n, workers);
      model.init(11);
      for (auto& v : model.user_table().weights) v *= 10.0f;
      model.set_ranking_loss(spec_of(kind, 1.0f, 0.75f));
      ThreadPool pool(workers);
      const StepLosses l = model.compute_gradients(batch, {0.7f, 1.3f}, &pool);
      grads.clear();
      for (const auto& p : model.dense_parameters()) grads.insert(grads.end(), p.grad, p.grad + p.size);
      for (int64_t s = 0; s < model.user_grad().count(); ++s)
        grads.insert(grads.end(), model.user_grad().grad(s), model.user_grad().grad(s) + 8);
      return l;
    };
    std::vector<float> g1, g3, g3b;
    const StepLosses serial = run(1, g1), par = run(3, g3), again = run(3, g3b);
    EXPECT_NEAR(par.ranking, serial.ranking, 1e-6 * serial.ranking) << to_string(kind);
    ASSERT_EQ(g1.size(), g3.size());
    for (size_t i = 0; i < g1.size(); ++i)
      ASSERT_NEAR(g3[i], g1[i], 1e-5f + 1e-4f * std::fabs(g1[i])) << to_string(kind) << " " << i;
    EXPECT_EQ(g3, g3b) << to_string(kind);
    EXPECT_EQ(par.total, again.total);
  }
}

}  // namespace
}  // namespace tandem
