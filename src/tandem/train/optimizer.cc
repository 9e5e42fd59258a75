#include "tandem/train/optimizer.h"

#include "tandem/core/error.h"
#include "tandem/train/adagrad.h"
#include "tandem/train/lr_schedule.h"
#include "tandem/train/momentum.h"

namespace tandem {

Optimizer::Optimizer(const OptimizerConfig& config)
    : cfg_(config), name_(to_string(config.kind)), slot_names_(optimizer_slot_names(config)) {
  cfg_.validate();
  begin_step(0, 1);
}

OptimizerSlots Optimizer::make_slots(size_t n) const {
  return OptimizerSlots(slot_names_.size(), std::vector<float>(n, optimizer_slot_initial_value(cfg_)));
}

namespace {

std::string listed(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& n : v) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? std::string("none") : out;
}

}  // namespace

void Optimizer::check_state(const std::string& optimizer, const std::vector<std::string>& slot_names) const {
  TANDEM_CHECK(optimizer == name_ && slot_names == slot_names_,
               "training state belongs to the optimizer "
                   << optimizer << " (state: " << listed(slot_names) << "), this run uses " << name_
                   << " (state: " << listed(slot_names_) << "); a run cannot change its optimizer part-way");
}

void Optimizer::check_slots(const OptimizerSlots& slots, const std::string& parameter, size_t size) const {
  TANDEM_CHECK(slots.size() == slot_names_.size(), "training state has " << slots.size()
                                                                         << " optimizer slots for " << parameter
                                                                         << ", the optimizer "
                                                                         << slot_names_.size());
  for (size_t k = 0; k < slots.size(); ++k) {
    TANDEM_CHECK(slots[k].size() == size, "training state's " << slot_names_[k] << " for " << parameter
                                                               << " has " << slots[k].size()
                                                               << " values, the parameter " << size);
  }
}

void Optimizer::begin_step(int64_t step, int64_t total_steps) {
  lr_ = learning_rate_at(cfg_.schedule, cfg_.learning_rate, step, total_steps);
  if (cfg_.kind == OptimizerKind::kAdam)
    adam_ = make_adam_step(lr_, cfg_.beta1, cfg_.beta2, cfg_.epsilon, 0.0f, step + 1);
}

void Optimizer::update_dense(const ParameterRef& p, OptimizerSlots& slots, int64_t first,
                             int64_t last) const {
  if (last < 0) last = p.size;
  const int64_t n = last - first;
  if (n <= 0) return;
  float* const w = p.value + first;
  const float* const g = p.grad + first;
  const auto slot = [&](size_t k) { return slots[k].data() + first; };
  const float l2 = cfg_.dense_l2;
  switch (cfg_.kind) {
    case OptimizerKind::kAdagrad:
      adagrad_update({lr_, cfg_.epsilon, l2}, w, slot(0), g, n);
      break;
    case OptimizerKind::kAdam: {
      AdamStep s = adam_;
      s.l2 = l2;
      adam_update(s, w, slot(0), slot(1), g, n);
      break;
    }
    case OptimizerKind::kSgd:
      momentum_update({lr_, cfg_.momentum, cfg_.nesterov, l2}, w,
                      slots.empty() ? nullptr : slot(0), g, n);
      break;
  }
}

void Optimizer::update_rows(EmbeddingTable& table, const RowGradient& grad, OptimizerSlots& slots,
                            int64_t first, int64_t last) const {
  const float l2 = cfg_.embedding_l2;
  switch (cfg_.kind) {
    case OptimizerKind::kAdagrad:
      adagrad_update_rows({lr_, cfg_.epsilon, l2}, table, slots[0], grad, first, last);
      break;
    case OptimizerKind::kAdam: {
      AdamStep s = adam_;
      s.l2 = l2;
      adam_update_rows(s, table, slots[0], slots[1], grad, first, last);
      break;
    }
    case OptimizerKind::kSgd:
      momentum_update_rows({lr_, cfg_.momentum, cfg_.nesterov, l2}, table,
                           slots.empty() ? nullptr : slots[0].data(), grad, first, last);
      break;
  }
}

}  // namespace tandem
