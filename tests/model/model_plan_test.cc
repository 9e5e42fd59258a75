// plan_model predicts, from a shape alone, exactly the buffers a
// MultiTaskModel of that shape allocates: the layers' static footprint()
// against their allocated(), for each layer and for whole models (shared
// bottom, mmoe, ple, side-feature towers with and without tower MLPs, a
// timestamp feature, mixed negatives, several workers).
#include "tandem/model/model_plan.h"

#include <gtest/gtest.h>

#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "tandem/core/error.h"
#include "tandem/model/dense_layer.h"
#include "tandem/model/embedding_table.h"
#include "tandem/model/feature_tower.h"
#include "tandem/model/mixture_of_experts.h"
#include "tandem/model/mlp.h"
#include "tandem/model/multitask_model.h"
#include "tandem/model/ranking_loss.h"
#include "tandem/model/row_dedup.h"

namespace tandem {

void PrintTo(const Footprint& f, std::ostream* os) {
  *os << "{parameters " << f.parameters << ", gradients " << f.gradients << ", workspace "
      << f.workspace << "}";
}

namespace {

// Entity features over `entities` rows: a categorical one (width 2) and a
// multi-hot bag (width 3, bags of 0..2 rows); a timestamp feature on request.
TowerSpec features(int64_t entities, bool timestamp, std::vector<int64_t> layers) {
  TowerSpec s;
  TowerFeature cat;
  cat.name = "cat";
  cat.rows = 3;
  cat.dim = 2;
  TowerFeature bag;
  bag.name = "bag";
  bag.rows = 4;
  bag.dim = 3;
  cat.offsets.push_back(0);
  bag.offsets.push_back(0);
  for (int64_t e = 0; e < entities; ++e) {
    cat.values.push_back(static_cast<int32_t>(e % 3));
    cat.offsets.push_back(static_cast<int64_t>(cat.values.size()));
    for (int64_t k = 0; k < e % 3; ++k) bag.values.push_back(static_cast<int32_t>((e + k) % 4));
    bag.offsets.push_back(static_cast<int64_t>(bag.values.size()));
  }
  s.features = {cat, bag};
  if (timestamp) {
    TowerFeature ts;
    ts.name = "timestamp";
    ts.per_example = true;
    ts.boundaries = {100, 200};
    ts.rows = 3;
    ts.dim = 2;
    s.features.push_back(ts);
  }
  s.layers = std::move(layers);
  return s;
}

struct Case {
  std::string name;
  ModelPlanInput input;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  ModelPlanInput base;
  base.shape.user_rows = 30;
  base.shape.item_rows = 20;
  base.shape.dim = 6;
  base.shape.hidden = {16, 8};
  base.max_batch = 12;
  out.push_back({"shared bottom", base});
  ModelPlanInput c = base;
  c.workers = 3;
  c.sampled_items = 5;
  c.shape.hidden = {};
  out.push_back({"workers, mixed negatives, linear head", c});
  c = base;
  c.shape.multitask.arch = MultitaskArch::kMmoe;
  c.shape.multitask.expert_dim = 5;
  c.sampled_items = 4;
  out.push_back({"mmoe", c});
  c.shape.multitask.arch = MultitaskArch::kPle;
  c.shape.multitask.weighting = TaskWeighting::kUncertainty;
  c.workers = 2;
  out.push_back({"ple, learned weights", c});
  c = base;
  c.shape.user_tower = features(30, false, {10});
  c.shape.item_tower = features(20, false, {10});
  c.sampled_items = 7;
  out.push_back({"towers with MLPs", c});
  c = base;
  c.shape.user_tower = features(30, true, {});
  c.shape.item_tower = features(20, true, {});
  c.shape.item_tower.features.pop_back();  // the item side has no timestamp:
  c.shape.item_tower.features[0].dim = 4;  // equal widths, 6 + 2 + 3 + 2 = 6 + 4 + 3
  out.push_back({"towers without MLPs, timestamp feature", c});
  c.shape.multitask.arch = MultitaskArch::kMmoe;
  c.shape.multitask.expert_dim = 7;
  c.workers = 2;
  c.sampled_items = 3;
  out.push_back({"mmoe over towers", c});
  c = base;
  ExtraTaskSpec liked;
  liked.name = "liked";
  c.shape.extra_tasks = {liked, liked};
  c.shape.extra_tasks[1].name = "loved";
  out.push_back({"two extra tasks", c});
  c.shape.multitask.arch = MultitaskArch::kPle;
  c.shape.multitask.weighting = TaskWeighting::kUncertainty;
  c.workers = 2;
  out.push_back({"ple over four tasks, learned weights", c});
  return out;
}

TEST(ModelPlan, PlanEqualsWhatTheModelAllocates) {
  for (const auto& [name, in] : cases()) {
    const ModelPlan plan = plan_model(in);
    const MultiTaskModel model(in.shape, in.max_batch, in.workers, in.sampled_items);
    EXPECT_EQ(plan.model(), model.allocated()) << name;
    EXPECT_EQ(plan.user_table, model.user_table().allocated()) << name;
    EXPECT_EQ(plan.item_table, model.item_table().allocated()) << name;
    // Every trainable value the model lists is a planned parameter, less the
    // learned task weights (one per task, held by a loss-side object, not planned).
    int64_t params = 0;
    for (const auto& p : model.dense_parameter_values()) params += static_cast<int64_t>(p.size);
    for (const auto& t : model.sparse_parameter_values()) params += static_cast<int64_t>(t.table->weights.size());
    const int64_t learned = in.shape.multitask.weighting == TaskWeighting::kUncertainty ? in.shape.task_count() : 0;
    EXPECT_EQ(plan.model().parameters, static_cast<int64_t>(sizeof(float)) * (params - learned)) << name;
    EXPECT_EQ(plan.model().parameters, static_cast<int64_t>(sizeof(float)) * (parameter_count(in.shape) - learned))
        << name;
    EXPECT_EQ(plan.experts.bytes() > 0, in.shape.multitask.has_experts()) << name;
    EXPECT_EQ(plan.towers.bytes() > 0, in.shape.has_towers()) << name;
  }
}

TEST(ModelPlan, EachLayerAllocatesItsFootprint) {
  const float x[4] = {};
  const DenseLayer dense(2, 3, Activation::kRelu, 5, x, nullptr);
  EXPECT_EQ(DenseLayer::footprint(2, 3, 5), dense.allocated());
  EXPECT_EQ(DenseLayer::footprint(2, 3, 5), (Footprint{4 * 9, 4 * 9, 4 * 30}));
  const Mlp mlp(4, {6, 5}, 2, 7);
  EXPECT_EQ(Mlp::footprint(4, {6, 5}, 2, 7), mlp.allocated());
  EXPECT_EQ(EmbeddingTable::footprint(9, 4), EmbeddingTable(9, 4).allocated());
  EXPECT_EQ(RowGradient::footprint(9, 4, 3), RowGradient(9, 4, 3).allocated());
  EXPECT_EQ(RowDedup::footprint(9, 3), RowDedup(9, 3).allocated());
  EXPECT_EQ(RankingLoss::footprint(11), RankingLoss(11).allocated());
  for (auto arch : {MultitaskArch::kMmoe, MultitaskArch::kPle}) {
    MultitaskSpec spec;
    spec.arch = arch;
    spec.expert_dim = 3;
    const MoeLayout layout = spec.moe_layout();
    EXPECT_EQ(MixtureOfExperts::footprint(5, layout, 4), MixtureOfExperts(5, layout, 4).allocated());
  }
  for (bool timestamp : {false, true}) {
    for (const std::vector<int64_t>& layers : {std::vector<int64_t>{}, std::vector<int64_t>{8, 4}}) {
      EmbeddingTable ids(10, 3);
      RowGradient id_grad(10, 3, 6);
      const TowerSpec spec = features(10, timestamp, layers);
      const FeatureTower tower("user", spec, &ids, &id_grad, 6);
      EXPECT_EQ(FeatureTower::footprint(spec, 3, 6), tower.allocated()) << timestamp << layers.size();
    }
  }
}

TEST(ModelPlan, FootprintsAddAndSaturate) {
  const Footprint a{1, 2, 3}, b{10, 20, 30};
  EXPECT_EQ(a + b, (Footprint{11, 22, 33}));
  EXPECT_EQ(a.bytes(), 6);
  EXPECT_EQ(a.times(3), (Footprint{3, 6, 9}));
  const int64_t max = std::numeric_limits<int64_t>::max();
  EXPECT_EQ((Footprint{max, 0, 0} + a).parameters, max);
  EXPECT_EQ((Footprint{max, max, 0}).bytes(), max);
  EXPECT_EQ(EmbeddingTable::footprint(int64_t{1} << 62, 64).parameters, max);
  EXPECT_EQ(optimizer_state_bytes(Footprint{8, 0, 0}, 2), 16);
}

TEST(ModelPlan, TasksAndTheRetrievalLossAllocateTheirFootprint) {
  for (int workers : {1, 3}) {
    for (const int64_t block : {4, 256}) {
      RetrievalSoftmaxLoss loss(10, 13, 11, block, workers);
      loss.prepare_batches(40, 30, 6);
      EXPECT_EQ(RetrievalSoftmaxLoss::footprint(10, 13, 11, block, workers, 40, 30, 6), loss.allocated())
          << workers << " " << block;
    }
  }
  // Growth: a private dC per worker after the first, and the item map.
  EXPECT_EQ(RetrievalSoftmaxLoss::growth_bytes(13, 6, 3, 30), (2 * 13 * 6 + 30) * 4);
  for (const auto kind : {HeadTask::Kind::kRating, HeadTask::Kind::kBinary}) {
    const HeadTask head("t", kind, 8, {5, 3}, 7, 2);
    EXPECT_EQ(HeadTask::footprint(kind, 8, {5, 3}, 7, 2), head.allocated());
  }
  const RetrievalTask retrieval(40, 30, 9, 6, 2, false);
  EXPECT_EQ(RetrievalTask::footprint(40, 30, 9, 6, 2), retrieval.allocated());
}

TEST(ModelPlan, RejectsImpossibleInputs) {
  ModelPlanInput in;
  in.max_batch = 0;
  EXPECT_THROW(plan_model(in), Error);
  in.max_batch = 4;
  in.workers = 0;
  EXPECT_THROW(plan_model(in), Error);
}

}  // namespace
}  // namespace tandem
