// The multi-task model with mmoe/ple towers and learned task weights: the
// whole model's gradients by finite differences, and what the tower vectors
// mean for prediction.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "gradient_check.h"
#include "tandem/core/thread_pool.h"
#include "tandem/model/multitask_model.h"
#include "tandem/model/uncertainty_weighting.h"

namespace tandem {
namespace {

TEST(UncertaintyWeighting, HandComputedTotalAndGradient) {
  UncertaintyWeighting u;
  u.values()[UncertaintyWeighting::kRetrieval] = 0.5f;
  u.values()[UncertaintyWeighting::kRanking] = -0.3f;
  const TaskWeights fixed{2.0f, 1.0f};  // ranking 2, retrieval 1
  const TaskWeights eff = u.effective_weights(fixed);
  EXPECT_FLOAT_EQ(eff.retrieval, std::exp(-0.5f));
  EXPECT_FLOAT_EQ(eff.ranking, 2.0f * std::exp(0.3f));
  // total = e^-0.5 * 3 + 0.5 + 2 e^0.3 * 4 - 0.3
  const double total = u.finish(fixed, 3.0, 4.0);
  EXPECT_NEAR(total, std::exp(-0.5) * 3 + 0.5 + 2 * std::exp(0.3) * 4 - 0.3, 1e-5);
  EXPECT_NEAR(u.gradient()[0], 1 - std::exp(-0.5) * 3, 1e-5);
  EXPECT_NEAR(u.gradient()[1], 1 - 2 * std::exp(0.3) * 4, 1e-5);
  EXPECT_NEAR(u.learned_weight(0), std::exp(-0.5), 1e-7);
  // A task that is off contributes neither its loss nor its s_t.
  const double only_ret = u.finish({0.0f, 1.0f}, 3.0, 4.0);
  EXPECT_NEAR(only_ret, std::exp(-0.5) * 3 + 0.5, 1e-5);
  EXPECT_EQ(u.gradient()[1], 0.0f);
}

TEST(UncertaintyWeighting, GradientMatchesFiniteDifferences) {
  UncertaintyWeighting u;
  u.values()[0] = 0.8f;
  u.values()[1] = -1.1f;
  const TaskWeights fixed{0.7f, 1.3f};
  const double l_ret = 5.5, l_rank = 0.9;
  u.finish(fixed, l_ret, l_rank);
  const std::vector<float> g(u.gradient(), u.gradient() + 2);
  testing::expect_gradient_matches([&] { return u.finish(fixed, l_ret, l_rank); }, u.values(),
                                   g.data(), 2, "s", 1e-3f, 1e-3, 1e-3);
}

ModelShape expert_shape(MultitaskArch arch, TaskWeighting weighting) {
  ModelShape shape{5, 6, 3, {4}};
  shape.multitask.arch = arch;
  shape.multitask.experts = 3;
  shape.multitask.shared_experts = 1;
  shape.multitask.task_experts = 1;
  shape.multitask.expert_dim = 4;
  shape.multitask.weighting = weighting;
  return shape;
}

// Gradients of the whole model's total loss with respect to both embedding
// tables (through the towers' expert layers and RowGradient, duplicates
// included) and every dense parameter (head, experts, gates, s_t).
void check_model_gradients(const ModelShape& shape, ThreadPool* pool) {
  const int64_t n = 5, d = shape.dim;
  MultiTaskModel model(shape, n, pool ? pool->size() : 1);
  model.init(17);
  Rng rng(4);
  for (auto& v : model.user_table().weights) v = rng.uniform(-0.8f, 0.8f);
  for (auto& v : model.item_table().weights) v = rng.uniform(-0.8f, 0.8f);
  for (auto& p : model.dense_parameters())
    if (p.name.find("bias") != std::string::npos || p.name == UncertaintyWeighting::kName)
      for (int64_t i = 0; i < p.size; ++i) p.value[i] = rng.uniform(-0.3f, 0.3f);
  const int32_t users[] = {1, 4, 1, 0, 2};
  const int32_t items[] = {5, 2, 3, 2, 0};
  const float labels[] = {0.5f, 1.0f, 0.0f, 0.75f, 0.25f};
  const Batch batch{users, items, labels, n};
  // Extra tasks (if the shape has any) with their configured weights.
  const TaskWeights w = model.with_extra_weights({0.7f, 1.3f});

  auto total_loss = [&] { return model.compute_gradients(batch, w, pool).total; };
  model.compute_gradients(batch, w, pool);
  std::map<int32_t, std::vector<float>> ug, ig;
  for (int64_t s = 0; s < model.user_grad().count(); ++s)
    ug[model.user_grad().rows()[s]].assign(model.user_grad().grad(s), model.user_grad().grad(s) + d);
  for (int64_t s = 0; s < model.item_grad().count(); ++s)
    ig[model.item_grad().rows()[s]].assign(model.item_grad().grad(s), model.item_grad().grad(s) + d);
  auto params = model.dense_parameters();
  std::vector<std::vector<float>> dense;
  for (const auto& p : params) dense.emplace_back(p.grad, p.grad + p.size);

  for (int32_t r = 0; r < 5; ++r) {
    std::vector<float> g = ug.count(r) ? ug[r] : std::vector<float>(d, 0.0f);
    testing::expect_gradient_matches(total_loss, model.user_table().row(r), g.data(), d,
                                     "user row " + std::to_string(r), 1e-3f);
  }
  for (int32_t r = 0; r < 6; ++r) {
    std::vector<float> g = ig.count(r) ? ig[r] : std::vector<float>(d, 0.0f);
    testing::expect_gradient_matches(total_loss, model.item_table().row(r), g.data(), d,
                                     "item row " + std::to_string(r), 1e-3f);
  }
  for (size_t i = 0; i < params.size(); ++i)
    testing::expect_gradient_matches(total_loss, params[i].value, dense[i].data(), params[i].size,
                                     params[i].name, 1e-3f);
}

TEST(MultiTaskModelExperts, MmoeGradientsMatchFiniteDifferences) {
  check_model_gradients(expert_shape(MultitaskArch::kMmoe, TaskWeighting::kFixed), nullptr);
}

TEST(MultiTaskModelExperts, PleGradientsMatchFiniteDifferences) {
  check_model_gradients(expert_shape(MultitaskArch::kPle, TaskWeighting::kFixed), nullptr);
}

TEST(MultiTaskModelExperts, LearnedWeightsGradientsMatchFiniteDifferences) {
  check_model_gradients(expert_shape(MultitaskArch::kMmoe, TaskWeighting::kUncertainty), nullptr);
  check_model_gradients(expert_shape(MultitaskArch::kSharedBottom, TaskWeighting::kUncertainty),
                        nullptr);
}

// A third task (binary "liked", weight 0.9): its own gate in each expert
// layer, its own head, its own learned weight.
ModelShape with_liked(ModelShape shape) {
  ExtraTaskSpec liked;
  liked.name = "liked";
  liked.weight = 0.9f;
  liked.label_threshold = 0.5f;
  shape.extra_tasks.push_back(liked);
  return shape;
}

TEST(MultiTaskModelExperts, ExtraTaskGradientsMatchFiniteDifferences) {
  for (auto arch : {MultitaskArch::kMmoe, MultitaskArch::kPle}) {
    for (auto weighting : {TaskWeighting::kFixed, TaskWeighting::kUncertainty}) {
      SCOPED_TRACE(to_string(arch) + " " + to_string(weighting));
      check_model_gradients(with_liked(expert_shape(arch, weighting)), nullptr);
    }
  }
  ThreadPool pool(2);
  check_model_gradients(with_liked(expert_shape(MultitaskArch::kPle, TaskWeighting::kUncertainty)), &pool);
  // Every parameter is counted, and there is one learned weight per task.
  const ModelShape shape = with_liked(expert_shape(MultitaskArch::kPle, TaskWeighting::kUncertainty));
  MultiTaskModel m(shape, 2);
  int64_t count = static_cast<int64_t>(m.user_table().weights.size() + m.item_table().weights.size());
  for (const auto& p : m.dense_parameter_values()) count += p.size;
  EXPECT_EQ(parameter_count(shape), count);
  m.init(1);
  EXPECT_EQ(m.learned_task_weights().size(), 3u);
}

TEST(MultiTaskModelExperts, GradientsMatchWithWorkerThreads) {
  ThreadPool pool(2);
  check_model_gradients(expert_shape(MultitaskArch::kPle, TaskWeighting::kUncertainty), &pool);
}

TEST(MultiTaskModelExperts, ParametersAreRegisteredAndCounted) {
  for (auto arch : {MultitaskArch::kSharedBottom, MultitaskArch::kMmoe, MultitaskArch::kPle}) {
    for (auto weighting : {TaskWeighting::kFixed, TaskWeighting::kUncertainty}) {
      const ModelShape shape = expert_shape(arch, weighting);
      MultiTaskModel m(shape, 2);
      int64_t count = static_cast<int64_t>(m.user_table().weights.size() + m.item_table().weights.size());
      std::map<std::string, int> names;
      for (const auto& p : m.dense_parameters()) {
        count += p.size;
        names[p.name] += 1;
      }
      EXPECT_EQ(parameter_count(shape), count) << to_string(arch);
      for (const auto& [name, times] : names) EXPECT_EQ(times, 1) << name;
      const auto values = m.dense_parameter_values();
      ASSERT_EQ(values.size(), m.dense_parameters().size());
      EXPECT_EQ(names.count("user_moe.gates.kernel"), arch == MultitaskArch::kSharedBottom ? 0u : 1u);
      EXPECT_EQ(names.count(UncertaintyWeighting::kName), weighting == TaskWeighting::kFixed ? 0u : 1u);
      EXPECT_EQ(m.task_dim(), arch == MultitaskArch::kSharedBottom ? shape.dim : 4);
      EXPECT_EQ(m.learned_task_weights().size(), weighting == TaskWeighting::kFixed ? 0u : 2u);
    }
  }
}

// predict_ratings (the ranking vectors from user_vectors/item_vectors, the
// serving path) equals the head's training forward.
TEST(MultiTaskModelExperts, PredictMatchesTrainingForward) {
  for (auto arch : {MultitaskArch::kMmoe, MultitaskArch::kPle}) {
    MultiTaskModel model(expert_shape(arch, TaskWeighting::kFixed), 3);
    model.init(2);
    const int32_t u[] = {0, 1, 3}, m[] = {1, 2, 0};
    const float y[] = {0, 0, 0};
    const double mse = model.compute_gradients({u, m, y, 3}, {1.0f, 0.0f}).ranking;
    std::vector<float> pred(3), scratch;
    model.predict_ratings(u, m, 3, pred.data(), scratch);
    double expected = 0;
    for (float p : pred) expected += static_cast<double>(p) * p / 3.0;
    EXPECT_NEAR(mse, expected, 1e-7);
    // Retrieval vectors differ from ranking vectors (separate gates), and from
    // the raw embedding.
    std::vector<float> ret(4), rank(4), tower;
    model.user_vectors(Task::kRetrieval, u, 1, ret.data(), tower);
    model.user_vectors(Task::kRanking, u, 1, rank.data(), tower);
    EXPECT_NE(ret, rank);
  }
}

TEST(MultiTaskModelExperts, ResultsAreDeterministicPerWorkerCount) {
  const ModelShape shape = expert_shape(MultitaskArch::kMmoe, TaskWeighting::kUncertainty);
  ThreadPool pool(3);
  const int32_t u[] = {0, 1, 3, 4, 2, 1}, m[] = {1, 2, 0, 5, 5, 3};
  const float y[] = {1, 2, 3, 4, 5, 1};
  std::vector<std::vector<float>> first;
  for (int run = 0; run < 2; ++run) {
    MultiTaskModel model(shape, 6, 3);
    model.init(9);
    const double total = model.compute_gradients({u, m, y, 6}, {1.0f, 1.0f}, &pool).total;
    std::vector<float> all{static_cast<float>(total)};
    for (const auto& p : model.dense_parameters()) all.insert(all.end(), p.grad, p.grad + p.size);
    first.push_back(all);
  }
  EXPECT_EQ(first[0], first[1]);
}

}  // namespace
}  // namespace tandem
