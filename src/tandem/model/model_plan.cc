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
              DeclaresFootprint<HeadTask> && DeclaresFootprint<RetrievalSoftmaxLoss> &&
              DeclaresFootprint<MultiTaskModel>);


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
  const int64_t head_in = 2 * task_dim;
  p.heads = HeadTask::footprint(HeadTask::Kind::kRating, head_in, s.hidden, in.max_batch, in.workers);
  for (size_t e = 0; e < s.extra_tasks.size(); ++e)
    p.heads += HeadTask::footprint(HeadTask::Kind::kBinary, head_in, s.hidden, in.max_batch, in.workers);
  const int64_t retrieval_dim = std::max(s.dim, task_dim);
  p.retrieval = RetrievalTask::footprint(s.user_rows, s.item_rows, in.max_batch, retrieval_dim, in.workers);
  p.retrieval_growth_bytes =
      RetrievalSoftmaxLoss::growth_bytes(in.max_batch, retrieval_dim, in.workers, s.item_rows);
  if (s.multitask.has_experts()) {
    const MoeLayout layout = moe_layout_of(s);
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
  step += RowGradient::footprint(s.user_rows, s.dim, in.max_batch);
  step += RowGradient::footprint(s.item_rows, s.dim, in.max_batch);
  return p;
}

Footprint MultiTaskModel::allocated() const {
  Footprint f = users_.allocated() + items_.allocated() + retrieval_.allocated();
  for (const auto& h : heads_) f += h->allocated();
  if (user_moe_) f += user_moe_->allocated() + item_moe_->allocated();
  if (user_tower_) f += user_tower_->allocated() + item_tower_->allocated();
  f.workspace += bytes_held(user_emb_) + bytes_held(item_emb_) + bytes_held(user_dgrad_) +
                 bytes_held(item_dgrad_) + bytes_held(grad_items_);
  f += user_grad_.allocated() + item_grad_.allocated();
  return f;
}

}  // namespace tandem
