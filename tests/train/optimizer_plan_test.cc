// The optimizer's state is what the model plan says it is: for each
// optimizer, the slots it makes for every dense and sparse parameter of a
// model add up to optimizer_state_bytes of the planned parameters (what the
// resource guard counts as "<optimizer> state").
#include <gtest/gtest.h>

#include <string>

#include "tandem/model/model_plan.h"
#include "tandem/train/optimizer.h"
#include "tandem/train/optimizer_config.h"

namespace tandem {
namespace {

int64_t slot_bytes(const OptimizerSlots& slots) {
  int64_t b = 0;
  for (const auto& s : slots) b += static_cast<int64_t>(s.size() * sizeof(float));
  return b;
}

TEST(OptimizerPlan, SlotsMatchThePlannedState) {
  ModelPlanInput in;
  in.shape.user_rows = 25;
  in.shape.item_rows = 15;
  in.shape.dim = 4;
  in.shape.hidden = {8};
  in.shape.multitask.arch = MultitaskArch::kMmoe;
  in.shape.multitask.expert_dim = 3;
  in.max_batch = 6;
  const ModelPlan plan = plan_model(in);
  MultiTaskModel model(in.shape, in.max_batch, in.workers, in.sampled_items);
  for (const auto& [kind, momentum] : {std::pair{OptimizerKind::kAdagrad, 0.0f},
                                       std::pair{OptimizerKind::kAdam, 0.0f},
                                       std::pair{OptimizerKind::kSgd, 0.0f},
                                       std::pair{OptimizerKind::kSgd, 0.9f}}) {
    OptimizerConfig c;
    c.kind = kind;
    c.momentum = momentum;
    const Optimizer opt(c);
    int64_t held = 0;
    for (const auto& p : model.dense_parameters()) held += slot_bytes(opt.make_slots(static_cast<size_t>(p.size)));
    for (const auto& t : model.sparse_parameters())
      held += slot_bytes(opt.make_slots(t.table->weights.size()));
    const auto slots = static_cast<int64_t>(optimizer_slot_names(c).size());
    EXPECT_EQ(slots, static_cast<int64_t>(opt.slot_names().size()));
    EXPECT_EQ(held, optimizer_state_bytes(plan.model(), slots)) << display_name(kind) << " " << momentum;
  }
}

}  // namespace
}  // namespace tandem
