#include "tandem/model/model_plan.h"

#include <algorithm>

#include "tandem/core/error.h"
#include "tandem/model/module.h"

namespace tandem {

// Every layer the plan adds up declares what it holds (module.h, rule 5).
static_assert(DeclaresFootprint<DenseLayer> && DeclaresFootprint<Mlp> &&
              DeclaresFootprint<EmbeddingTable> && DeclaresFootprint<RowGradient> &&
              DeclaresFootprint<RowDedup> && DeclaresFootprint<MixtureOfExperts> &&
              DeclaresFootprint<FeatureTower> && DeclaresFootprint<RankingLoss> &&
              DeclaresFootprint<MultiTaskModel>);

namespace {

bool has_per_example_feature(const TowerSpec& user_tower) {
  return std::any_of(user_tower.features.begin(), user_tower.features.end(),
                     [](const TowerFeature& f) { return f.per_example; });
}

}  // namespace

// Mirrors MultiTaskModel's constructor; MultiTaskModel::allocated() below
// reads the buffers it made, so a buffer added to one and not the other
// fails tests/model/model_plan_test.cc.
ModelPlan plan_model(const ModelPlanInput& in) {
  const ModelShape& s = in.shape;
  TANDEM_CHECK(in.max_batch > 0 && in.workers >= 1 && in.sampled_items >= 0,
               "model plan needs a positive batch and worker count, got max_batch = "
                   << in.max_batch << ", workers = " << in.workers << ", sampled items = "
                   << in.sampled_items);
  const int64_t out_dim = output_dim(s);
  const int64_t task_dim = s.multitask.has_experts() ? s.multitask.expert_dim : out_dim;
  const int64_t item_batch = footprint_add(in.max_batch, in.sampled_items);
  ModelPlan p;
  p.user_table = EmbeddingTable::footprint(s.user_rows, s.dim);
  p.item_table = EmbeddingTable::footprint(s.item_rows, s.dim);
  p.rating_head = Mlp::footprint(2 * task_dim, s.hidden, 1, in.max_batch);
  // One packed copy of the head's gradients per worker.
  p.rating_head.gradients =
      footprint_add(p.rating_head.gradients, footprint_mul(p.rating_head.parameters, in.workers));
  if (s.multitask.has_experts()) {
    const MoeLayout layout = s.multitask.moe_layout();
    p.experts = MixtureOfExperts::footprint(out_dim, layout, in.max_batch) +
                MixtureOfExperts::footprint(out_dim, layout, item_batch);
  }
  if (s.has_towers()) {
    p.towers = FeatureTower::footprint(s.user_tower, s.dim, in.max_batch) +
               FeatureTower::footprint(s.item_tower, s.dim, item_batch);
  }
  const int64_t width = std::max(s.dim, out_dim);
  Footprint& step = p.step;
  // user_emb_, item_emb_ and their gradients.
  step.workspace = footprint_mul(
      footprint_add(bytes_of<float>(footprint_mul(in.max_batch, width)), bytes_of<float>(footprint_mul(item_batch, width))),
      2);
  step.workspace = footprint_add(step.workspace, bytes_of<double>(in.workers));  // worker_mse_
  step += RowGradient::footprint(s.user_rows, s.dim, in.max_batch);
  step += RowGradient::footprint(s.item_rows, s.dim, in.max_batch);
  step += RowDedup::footprint(s.user_rows, in.max_batch);
  step += RowDedup::footprint(s.item_rows, in.max_batch);
  if (s.has_towers() && has_per_example_feature(s.user_tower)) {
    step += RowDedup::footprint(in.max_batch, in.max_batch);
    step.workspace = footprint_add(step.workspace, bytes_of<int32_t>(in.max_batch));
  }
  step += RankingLoss::footprint(in.max_batch);
  return p;
}

Footprint MultiTaskModel::allocated() const {
  Footprint f = users_.allocated() + items_.allocated() + head_.allocated();
  for (const auto& g : head_grads_) f.gradients += bytes_held(g);
  if (user_moe_) f += user_moe_->allocated() + item_moe_->allocated();
  if (user_tower_) f += user_tower_->allocated() + item_tower_->allocated();
  f.workspace += bytes_held(user_emb_) + bytes_held(item_emb_) + bytes_held(user_dgrad_) +
                 bytes_held(item_dgrad_) + bytes_held(worker_mse_) + bytes_held(example_ids_);
  f += user_grad_.allocated() + item_grad_.allocated();
  f += user_dedup_.allocated() + item_dedup_.allocated() + example_dedup_.allocated();
  f += ranking_loss_.allocated();
  return f;
}

// TO MOVE into the retrieval softmax's loss class (see the header).
int64_t retrieval_softmax_workspace_bytes(int64_t max_batch, int workers, bool distinct_rows) {
  constexpr int64_t kBlockRows = 256;  // InBatchSoftmaxLoss' block, as MultiTaskModel builds it
  const int64_t rows = distinct_rows ? std::min(kBlockRows, max_batch) : max_batch;
  return footprint_mul(bytes_of<float>(footprint_mul(rows, max_batch)), footprint_mul(workers, 2));
}

}  // namespace tandem
