// The configured optimizer behind one interface for the trainer: its state
// (named slots per parameter), the step's learning rate from the schedule,
// and the dense and sparse (embedding-row) updates.
//
// L2 penalties: embedding_l2 adds l2 x w to the gradient of each embedding
// row a batch touched, once per distinct row however often the batch holds
// its id (the penalty (l2 / 2) x |w_r|^2 per touched row, added to the batch
// loss). Once per row because that is what the sparse gradient holds (rows are
// summed before any optimizer sees them), it costs O(rows touched) and needs
// no counts; frequent ids are still regularised more often, once per batch
// they appear in. Untouched rows are not penalised: a dense penalty over the
// table would cost O(table) per step and, under Adagrad/Adam, move every row
// at every step. dense_l2 adds l2 x w to every dense parameter the step
// updates. The reported losses do not include the penalties.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tandem/model/embedding_table.h"
#include "tandem/model/parameter.h"
#include "tandem/train/adam.h"
#include "tandem/train/optimizer_config.h"

namespace tandem {

// One parameter's optimizer state: one array per slot name, each shaped like
// the parameter.
using OptimizerSlots = std::vector<std::vector<float>>;

class Optimizer {
 public:
  // Throws tandem::Error if the config is invalid.
  explicit Optimizer(const OptimizerConfig& config);

  const OptimizerConfig& config() const { return cfg_; }
  const std::string& name() const { return name_; }
  const std::vector<std::string>& slot_names() const { return slot_names_; }
  // Fresh state for a parameter of n values.
  OptimizerSlots make_slots(size_t n) const;
  // Throw tandem::Error unless saved state belongs to this optimizer (its
  // name and slot names), and unless one parameter's slots have its size.
  void check_state(const std::string& optimizer, const std::vector<std::string>& slot_names) const;
  void check_slots(const OptimizerSlots& slots, const std::string& parameter, size_t size) const;

  // Sets the constants of the step with 0-based index `step` in a run of
  // `total_steps` (learning rate from the schedule, Adam's bias correction).
  void begin_step(int64_t step, int64_t total_steps);
  float learning_rate() const { return lr_; }

  // The rule on a dense parameter with its gradient: on its elements
  // [first, last) (all by default). Every rule is elementwise, so threads
  // may update disjoint ranges of one parameter at once.
  void update_dense(const ParameterRef& p, OptimizerSlots& slots, int64_t first = 0,
                    int64_t last = -1) const;
  // The rule on the rows `grad` holds (lazily for Adam and momentum): its
  // slots [first, last) (all by default; the rows are distinct).
  void update_rows(EmbeddingTable& table, const RowGradient& grad, OptimizerSlots& slots,
                   int64_t first = 0, int64_t last = -1) const;

 private:
  OptimizerConfig cfg_;
  std::string name_;
  std::vector<std::string> slot_names_;
  float lr_ = 0.0f;
  AdamStep adam_;  // l2 left 0: set per call
};

}  // namespace tandem
