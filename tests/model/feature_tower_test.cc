#include "tandem/model/feature_tower.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "gradient_check.h"
#include "tandem/core/error.h"
#include "tandem/core/thread_pool.h"
#include "tandem/model/multitask_model.h"

namespace tandem {
namespace {

// A table's RowGradient as a dense [rows, dim] array (rows not touched: 0).
std::vector<float> dense(const RowGradient& g, const EmbeddingTable& t) {
  std::vector<float> out(t.weights.size(), 0.0f);
  for (int64_t s = 0; s < g.count(); ++s)
    for (int64_t c = 0; c < t.dim; ++c) out[static_cast<size_t>(g.rows()[s] * t.dim + c)] = g.grad(s)[c];
  return out;
}

// Four entity rows: a categorical feature (one row each, the OOV row 0 for
// entity 0), a multi-hot bag of sizes 0..3 (entity 0 has none), and a
// timestamp bucketed at 100 and 200.
TowerSpec test_spec(std::vector<int64_t> layers) {
  TowerSpec s;
  TowerFeature cat;
  cat.name = "cat";
  cat.rows = 3;
  cat.dim = 2;
  cat.offsets = {0, 1, 2, 3, 4};
  cat.values = {0, 1, 2, 1};
  TowerFeature bag;
  bag.name = "bag";
  bag.rows = 4;
  bag.dim = 3;
  bag.offsets = {0, 0, 1, 3, 6};
  bag.values = {2, 0, 3, 1, 2, 3};
  TowerFeature ts;
  ts.name = "timestamp";
  ts.per_example = true;
  ts.boundaries = {100, 200};
  ts.rows = 3;
  ts.dim = 2;
  s.features = {cat, bag, ts};
  s.layers = std::move(layers);
  return s;
}

void check_tower_gradients(std::vector<int64_t> layers) {
  const int64_t n = 6;
  EmbeddingTable ids(4, 3);
  RowGradient id_grad(4, 3, n);
  FeatureTower tower("user", test_spec(layers), &ids, &id_grad, n);
  Rng rng(5);
  tower.init(rng);
  for (auto& v : ids.weights) v = rng.uniform(-0.8f, 0.8f);
  for (size_t f = 0; f < 3; ++f)
    for (auto& v : tower.table(f).weights) v = rng.uniform(-0.8f, 0.8f);
  const int32_t rows[n] = {3, 0, 2, 3, 1, 2};  // duplicates, and the row without a bag
  const int64_t ts[n] = {50, 100, 150, 250, 199, 10};
  const int64_t out_dim = tower.output_dim();
  std::vector<float> coef(static_cast<size_t>(n * out_dim)), out(coef.size());
  for (auto& c : coef) c = rng.uniform(-1.0f, 1.0f);
  // L = sum(coef * out), non-linear in the weights through the MLP's ReLUs.
  auto loss = [&] {
    tower.forward(rows, ts, n, out.data());
    double l = 0;
    for (size_t i = 0; i < out.size(); ++i) l += static_cast<double>(coef[i]) * out[i];
    return l;
  };
  loss();
  tower.backward(coef.data(), n);
  const std::vector<float> gid = dense(id_grad, ids);
  std::vector<std::vector<float>> gf;
  for (size_t f = 0; f < 3; ++f) gf.push_back(dense(tower.grad(f), tower.table(f)));
  std::vector<std::vector<float>> gd;
  auto dparams = tower.dense_parameters();
  for (const auto& p : dparams) gd.emplace_back(p.grad, p.grad + p.size);
  EXPECT_EQ(dparams.size(), 2 * layers.size());

  testing::expect_gradient_matches(loss, ids.weights.data(), gid.data(), 12, "id table");
  for (size_t f = 0; f < 3; ++f)
    testing::expect_gradient_matches(loss, tower.table(f).weights.data(), gf[f].data(),
                                     static_cast<int64_t>(gf[f].size()), "feature table " + std::to_string(f));
  for (size_t i = 0; i < dparams.size(); ++i)
    testing::expect_gradient_matches(loss, dparams[i].value, gd[i].data(), dparams[i].size, dparams[i].name);

  // Inference computes what training's forward does.
  std::vector<float> inferred(out.size());
  loss();
  tower.compute(rows, ts, n, inferred.data());
  for (size_t i = 0; i < out.size(); ++i) EXPECT_FLOAT_EQ(inferred[i], out[i]) << i;
}

TEST(FeatureTower, GradientsMatchFiniteDifferencesWithoutMlp) { check_tower_gradients({}); }
TEST(FeatureTower, GradientsMatchFiniteDifferencesWithMlp) { check_tower_gradients({5, 4}); }

TEST(FeatureTower, ConcatenatesIdAndBagMeans) {
  EmbeddingTable ids(4, 1);
  RowGradient id_grad(4, 1, 2);
  ids.weights = {10, 11, 12, 13};
  FeatureTower tower("item", test_spec({}), &ids, &id_grad, 2);
  for (size_t f = 0; f < 3; ++f)
    for (size_t i = 0; i < tower.table(f).weights.size(); ++i)
      tower.table(f).weights[i] = static_cast<float>(i + 1);
  ASSERT_EQ(tower.output_dim(), 1 + 2 + 3 + 2);
  const int32_t rows[2] = {0, 3};
  std::vector<float> out(16);
  tower.compute(rows, nullptr, 2, out.data());  // no timestamps: the last bucket (row 2)
  // Entity 0: id 10, cat row 0 = (1, 2), no bag: zeros, timestamp row 2 = (5, 6).
  EXPECT_EQ(std::vector<float>(out.begin(), out.begin() + 8),
            (std::vector<float>{10, 1, 2, 0, 0, 0, 5, 6}));
  // Entity 3: id 13, cat row 1 = (3, 4), bag rows {3, 1, 2} of (i*3+1..i*3+3):
  // mean of (10,11,12), (4,5,6), (7,8,9) = (7, 8, 9).
  EXPECT_EQ(std::vector<float>(out.begin() + 8, out.end()),
            (std::vector<float>{13, 3, 4, 7, 8, 9, 5, 6}));
}

TEST(FeatureTower, RejectsBadSpecs) {
  EmbeddingTable ids(4, 2);
  RowGradient id_grad(4, 2, 2);
  TowerSpec s = test_spec({});
  s.features[0].values[2] = 7;  // outside its table of 3 rows
  EXPECT_THROW(FeatureTower("user", s, &ids, &id_grad, 2), Error);
  s = test_spec({});
  s.features[1].offsets.pop_back();  // does not cover entity 3
  EXPECT_THROW(FeatureTower("user", s, &ids, &id_grad, 2), Error);
  s = test_spec({});
  s.features.push_back(s.features[2]);  // two per-example features
  EXPECT_THROW(FeatureTower("user", s, &ids, &id_grad, 2), Error);
}

ModelShape tower_shape(std::vector<int64_t> layers) {
  ModelShape shape{4, 5, 3, {4}};
  shape.user_tower = test_spec(layers);
  TowerSpec item;
  TowerFeature genres;
  genres.name = "genres";
  genres.rows = 3;
  genres.dim = 7;  // 3 + 7 == 3 + (2 + 3 + 2): equal widths without layers
  genres.offsets = {0, 1, 1, 3, 4, 6};
  genres.values = {0, 1, 2, 2, 0, 1};
  item.features = {genres};
  item.layers = layers;
  shape.item_tower = item;
  return shape;
}

// Experts (arch: mmoe or ple; shared-bottom leaves the shape as it is) of
// width expert_dim over the towers' outputs.
void add_experts(ModelShape& shape, MultitaskArch arch, int64_t expert_dim) {
  if (arch == MultitaskArch::kSharedBottom) return;
  shape.multitask.arch = arch;
  shape.multitask.experts = 3;
  shape.multitask.shared_experts = 1;
  shape.multitask.task_experts = 1;
  shape.multitask.expert_dim = expert_dim;
}

// Variations of the model with towers under test.
struct TowerCase {
  bool timestamp = true;  // the user tower's per-example feature
  const RetrievalLossOptions* options = nullptr;
  RankingLossKind ranking = RankingLossKind::kMse;
  MultitaskArch arch = MultitaskArch::kSharedBottom;  // experts over the towers' outputs
  bool example_weights = false;
  ThreadPool* pool = nullptr;
};

// The whole model with towers: w_rank * ranking loss + w_ret * softmax CE
// against every table (ids and features) and every dense parameter (head,
// tower MLPs, experts and gates), with timestamps.
void check_model_gradients(std::vector<int64_t> layers, const TaskWeights w, const TowerCase& c = {}) {
  ModelShape shape = tower_shape(layers);
  // Without the per-example timestamp the retrieval loss takes its
  // distinct-rows path (duplicate users and items in the batch below).
  if (!c.timestamp) shape.user_tower.features.pop_back();
  add_experts(shape, c.arch, 4);
  const int64_t n = 5;
  const int64_t sampled = c.options ? c.options->mixed_negatives : 0;
  MultiTaskModel model(shape, n, c.pool ? c.pool->size() : 1, sampled);
  model.init(9);
  if (c.options) model.configure_retrieval(*c.options, std::vector<float>(5, std::log(0.2f)), {0, 1, 2, 3, 4});
  RankingLossSpec ranking_spec;
  ranking_spec.kind = c.ranking;
  model.set_ranking_loss(ranking_spec);
  // (A seed whose random weights put no ReLU pre-activation of the head
  // within the finite-difference step of its kink.)
  Rng rng(11);
  for (auto& t : model.sparse_parameters())
    for (auto& v : t.table->weights) v = rng.uniform(-0.8f, 0.8f);
  for (auto& p : model.dense_parameters())
    if (p.name.find("moe") != std::string::npos && p.name.find("bias") != std::string::npos)
      for (int64_t i = 0; i < p.size; ++i) p.value[i] = rng.uniform(-0.3f, 0.3f);
  const int32_t users[n] = {1, 3, 1, 0, 2};
  const int32_t items[n] = {4, 2, 3, 2, 1};
  const float labels[n] = {0.5f, 1.0f, 0.0f, 0.75f, 0.25f};
  const float weights[n] = {1.0f, 0.5f, 2.0f, 1.5f, 0.25f};
  const int64_t ts[n] = {10, 120, 300, 150, 99};
  Batch batch{users, items, labels, n};
  batch.timestamps = ts;
  if (c.example_weights) batch.weights = weights;
  batch.sample_seed = 77;
  auto total = [&] { return model.compute_gradients(batch, w, c.pool).total; };
  total();
  auto tables = model.sparse_parameters();
  auto dparams = model.dense_parameters();
  EXPECT_EQ(tables.size(), 2u + (c.timestamp ? 3u : 2u) + 1u);
  std::vector<std::vector<float>> gs, gd;
  for (const auto& t : tables) gs.push_back(dense(*t.grad, *t.table));
  for (const auto& p : dparams) gd.emplace_back(p.grad, p.grad + p.size);
  for (size_t t = 0; t < tables.size(); ++t)
    testing::expect_gradient_matches(total, tables[t].table->weights.data(), gs[t].data(),
                                     static_cast<int64_t>(gs[t].size()), tables[t].name, 1e-3f);
  for (size_t i = 0; i < dparams.size(); ++i)
    testing::expect_gradient_matches(total, dparams[i].value, gd[i].data(), dparams[i].size, dparams[i].name, 1e-3f);
}

TEST(MultiTaskModelWithTowers, GradientsMatchFiniteDifferences) {
  check_model_gradients({}, {0.7f, 1.3f});
  check_model_gradients({6, 5}, {0.7f, 1.3f});
  check_model_gradients({6, 5}, {0.7f, 1.3f}, {.timestamp = false});
}

// The towers' outputs feed the optioned retrieval softmax and the batch-wide
// ranking losses too, and their gradients flow back into every table.
TEST(MultiTaskModelWithTowers, GradientsWithRetrievalOptionsAndABatchRankingLoss) {
  RetrievalLossOptions opt;
  opt.temperature = 0.5f;
  opt.logq_correction = true;
  opt.remove_accidental_hits = true;
  check_model_gradients({6, 5}, {0.7f, 1.3f}, {.timestamp = false, .options = &opt});
  check_model_gradients({6, 5}, {0.7f, 1.3f},
                        {.timestamp = false, .ranking = RankingLossKind::kPairwiseLogistic});
  check_model_gradients({6, 5}, {0.7f, 1.3f}, {.ranking = RankingLossKind::kSoftmaxListwise});
}

// The combinations once refused: experts over the towers' outputs, mixed
// negatives through the item tower (and its experts), and the timestamp
// feature with the retrieval options and example weights (every example its
// own query).
TEST(MultiTaskModelWithTowers, GradientsWithExpertsMixedNegativesAndTimestampOptions) {
  check_model_gradients({6}, {0.7f, 1.3f}, {.arch = MultitaskArch::kMmoe});
  check_model_gradients({}, {0.7f, 1.3f}, {.arch = MultitaskArch::kPle});
  RetrievalLossOptions mixed;
  mixed.mixed_negatives = 3;
  mixed.logq_correction = true;
  check_model_gradients({6, 5}, {0.7f, 1.3f}, {.timestamp = false, .options = &mixed});
  check_model_gradients({6}, {0.7f, 1.3f},
                        {.timestamp = false, .options = &mixed, .arch = MultitaskArch::kMmoe});
  RetrievalLossOptions hot;
  hot.temperature = 0.5f;
  hot.remove_accidental_hits = true;
  hot.hard_negatives = 2;
  check_model_gradients({6, 5}, {0.7f, 1.3f}, {.options = &hot});
  check_model_gradients({6, 5}, {0.7f, 1.3f}, {.options = &mixed, .example_weights = true});
  check_model_gradients({6, 5}, {0.7f, 1.3f}, {.example_weights = true});
  ThreadPool pool(2);
  check_model_gradients({6}, {0.7f, 1.3f},
                        {.options = &mixed, .arch = MultitaskArch::kPle, .example_weights = true, .pool = &pool});
}

// With a per-example feature and no retrieval option, the optioned softmax
// (every example its own query) equals the plain one over the full matrix.
TEST(MultiTaskModelWithTowers, PerExampleQueriesEqualThePlainFullMatrix) {
  const int32_t users[4] = {1, 1, 0, 1}, items[4] = {4, 2, 2, 3};
  const float labels[4] = {0.5f, 1.0f, 0.0f, 0.75f}, ones[4] = {1, 1, 1, 1};
  const int64_t ts[4] = {10, 300, 99, 10};
  MultiTaskModel plain(tower_shape({6}), 4), weighted(tower_shape({6}), 4);
  plain.init(3);
  weighted.init(3);
  Batch batch{users, items, labels, 4};
  batch.timestamps = ts;
  const double a = plain.compute_gradients(batch, {0.0f, 1.0f}).retrieval;
  batch.weights = ones;  // weights of 1 take the optioned path, same loss
  const double b = weighted.compute_gradients(batch, {0.0f, 1.0f}).retrieval;
  EXPECT_NEAR(a, b, 1e-5 * std::abs(a));
  const auto pg = plain.dense_parameters(), wg = weighted.dense_parameters();
  for (size_t i = 0; i < pg.size(); ++i)
    for (int64_t j = 0; j < pg[i].size; ++j) EXPECT_NEAR(pg[i].grad[j], wg[i].grad[j], 1e-5f) << pg[i].name;
}

TEST(MultiTaskModelWithTowers, MixedNegativesNeedTheCapacityTheModelWasBuiltFor) {
  MultiTaskModel model(tower_shape({6}), 4, 1, /*sampled_items=*/2);
  RetrievalLossOptions mixed;
  mixed.mixed_negatives = 3;
  try {
    model.configure_retrieval(mixed, {}, {0, 1, 2});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds the 2 sampled items"), std::string::npos) << e.what();
  }
  mixed.mixed_negatives = 2;
  EXPECT_NO_THROW(model.configure_retrieval(mixed, {}, {0, 1, 2}));
}

TEST(MultiTaskModelWithTowers, RetrievalOnlyStillTrainsTowerMlpsAndZeroesTheHead) {
  check_model_gradients({6, 5}, {0.0f, 1.0f});
  MultiTaskModel model(tower_shape({6, 5}), 5);
  EXPECT_TRUE(model.retrieval_trains_dense());
}

TEST(MultiTaskModelWithTowers, PredictionsMatchTheTrainingForward) {
  for (auto arch : {MultitaskArch::kSharedBottom, MultitaskArch::kMmoe}) {
  ModelShape shape = tower_shape({6});
  add_experts(shape, arch, 6);
  MultiTaskModel model(shape, 3);
  model.init(2);
  const int32_t users[3] = {1, 3, 0};
  const int32_t items[3] = {4, 2, 0};
  const int64_t ts[3] = {1, 150, 999};
  std::vector<float> pred(3), scratch;
  model.predict_ratings(users, items, 3, pred.data(), scratch, ts);
  std::vector<float> u(3 * 6), v(3 * 6), direct(3);
  std::vector<float> tower_scratch;
  model.user_vectors(Task::kRanking, users, 3, u.data(), tower_scratch, ts);
  model.item_vectors(Task::kRanking, items, 3, v.data(), tower_scratch);
  model.predict_from_vectors(u.data(), v.data(), 3, direct.data(), scratch);
  for (int i = 0; i < 3; ++i) EXPECT_FLOAT_EQ(pred[i], direct[i]);
  EXPECT_EQ(model.task_dim(), 6);
  }
}

// A user given by its inputs: with the id row and bags of a known row it is
// that row's vector, through the towers alone and under experts.
TEST(MultiTaskModelWithTowers, DescribedUserEqualsTheRowItDescribes) {
  for (auto arch : {MultitaskArch::kSharedBottom, MultitaskArch::kPle})
  for (const auto& layers : {std::vector<int64_t>{}, std::vector<int64_t>{6}}) {
    ModelShape shape = tower_shape(layers);
    add_experts(shape, arch, 5);
    MultiTaskModel model(shape, 3);
    model.init(4);
    const int64_t d = model.task_dim();
    std::vector<float> scratch, want(static_cast<size_t>(d)), got(static_cast<size_t>(d));
    for (int32_t row = 0; row < shape.user_rows; ++row)
    for (const std::optional<int64_t> ts : {std::optional<int64_t>(), std::optional<int64_t>(150)}) {
      DescribedEntity e;
      e.id_row = row;
      e.timestamp = ts;
      for (const auto& f : shape.user_tower.features) {
        e.bags.emplace_back();
        if (!f.per_example)
          e.bags.back().assign(f.values.begin() + f.offsets[static_cast<size_t>(row)],
                               f.values.begin() + f.offsets[static_cast<size_t>(row) + 1]);
      }
      for (Task t : {Task::kRetrieval, Task::kRanking}) {
        model.user_vectors(t, &row, 1, want.data(), scratch, ts ? &*ts : nullptr);
        model.described_user_vector(t, e, got.data(), scratch);
        for (int64_t j = 0; j < d; ++j) EXPECT_FLOAT_EQ(got[static_cast<size_t>(j)], want[static_cast<size_t>(j)]) << row;
      }
    }
    DescribedEntity bad;
    bad.bags.resize(1);
    EXPECT_THROW(model.described_user_vector(Task::kRetrieval, bad, got.data(), scratch), Error);
    bad.bags.resize(shape.user_tower.features.size());
    bad.bags[0] = {99};
    EXPECT_THROW(model.described_user_vector(Task::kRetrieval, bad, got.data(), scratch), Error);
  }
}

TEST(MultiTaskModelWithTowers, UnequalTowerWidthsWithoutLayersAreAClearError) {
  ModelShape shape = tower_shape({});
  shape.item_tower.features[0].dim = 2;
  try {
    MultiTaskModel model(shape, 2);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("same width"), std::string::npos) << e.what();
  }
}

TEST(MultiTaskModelWithTowers, ParameterCountCoversTheTowers) {
  for (const auto& layers : {std::vector<int64_t>{}, std::vector<int64_t>{6, 5}})
  for (auto arch : {MultitaskArch::kSharedBottom, MultitaskArch::kPle}) {
    ModelShape shape = tower_shape(layers);
    add_experts(shape, arch, 4);
    MultiTaskModel m(shape, 2);
    int64_t n = 0;
    for (const auto& t : m.sparse_parameter_values()) n += static_cast<int64_t>(t.table->weights.size());
    for (const auto& p : m.dense_parameter_values()) n += p.size;
    EXPECT_EQ(parameter_count(shape), n);
  }
}

}  // namespace
}  // namespace tandem
