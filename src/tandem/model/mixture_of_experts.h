// A mixture-of-experts layer with one softmax gate per task: what turns one
// tower input (an id embedding row) into one vector per task, so that the
// retrieval and ranking tasks can share some capacity without sharing all of
// it. Applied per tower (one for users, one for items), which keeps retrieval
// factorised: the score is still user_vector . item_vector.
//
//   expert e:  E_e(x) = ReLU(x W_e + b_e)                 [n, expert_dim]
//   gate t:    g_t(x) = softmax(x G_t + c_t)              over task t's experts
//   task t:    y_t    = sum_{e in experts(t)} g_te E_e(x)
//
// Two layouts (MoeKind):
//  - MMoE (Ma et al. 2018): every expert is shared, one gate per task.
//  - PLE, one CGC level (Tang et al. 2020): `shared` experts used by every
//    task plus `task_experts` experts per task; task t's gate mixes the
//    shared experts and its own.
// All experts are one fused [in, experts * expert_dim] kernel and all gates
// one [in, sum of gate widths] kernel, so a forward is two GEMMs and a
// backward four, over the whole batch (the BLAS). Buffers are sized for
// max_batch at construction; forward/backward never allocate.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tandem/core/random.h"
#include "tandem/model/footprint.h"
#include "tandem/model/parameter.h"

namespace tandem {

enum class MoeKind { kMmoe, kPle };

struct MoeLayout {
  MoeKind kind = MoeKind::kMmoe;
  int tasks = 2;
  int64_t experts = 4;         // MMoE: all experts (shared)
  int64_t shared_experts = 2;  // PLE: experts every task's gate sees
  int64_t task_experts = 2;    // PLE: experts of each task alone
  int64_t expert_dim = 32;

  int64_t total_experts() const {
    return kind == MoeKind::kMmoe ? experts : shared_experts + tasks * task_experts;
  }
  // Experts task t's gate mixes, in gate order (fused-kernel indices).
  std::vector<int64_t> experts_of(int task) const;
  int64_t gate_width(int task) const { return static_cast<int64_t>(experts_of(task).size()); }
  int64_t total_gate_width() const;
};

// Trainable values of a layer over `in` inputs (saturates at INT64_MAX).
int64_t moe_parameter_count(int64_t in, const MoeLayout& layout);
// Floats of workspace a layer holds for `max_batch` rows (for memory plans).
int64_t moe_workspace_floats(int64_t in, const MoeLayout& layout, int64_t max_batch);

class MixtureOfExperts {
 public:
  MixtureOfExperts(int64_t in, const MoeLayout& layout, int64_t max_batch);

  // Glorot-uniform kernels (per expert: fan in `in`, fan out expert_dim; per
  // gate: in, gate width), zero biases (Keras' Dense defaults).
  void init_glorot(Rng& rng);

  // Training forward over x [n, in] (n <= max_batch); x must stay unchanged
  // until backward.
  void forward(const float* x, int64_t n);
  const float* output(int task) const { return y_[static_cast<size_t>(task)].data(); }  // [n, expert_dim]
  // dL/dy_t for the last forward; the caller writes it before backward.
  float* output_grad(int task) { return dy_[static_cast<size_t>(task)].data(); }
  // Reads output_grad(t) for every task, writes the parameter gradients
  // (overwritten) and, when dx is not null, dL/dx [n, in] (overwritten).
  void backward(const float* x, int64_t n, float* dx);

  // Inference for one task on caller buffers: x [n, in] -> y [n, expert_dim],
  // any n; `scratch` holds predict_scratch_floats(n) floats. Reads only
  // weights (thread-safe with one scratch per thread) and gives the same
  // floats as forward.
  void predict(int task, const float* x, int64_t n, float* y, float* scratch) const;
  int64_t predict_scratch_floats(int64_t n) const { return n * (width_ + gate_total_); }

  int64_t in() const { return in_; }
  const MoeLayout& layout() const { return layout_; }
  // Gate probabilities of the last forward, [n, total_gate_width()], task t's
  // block at gate_offset(t) (for tests and diagnostics).
  const float* gates() const { return gates_.data(); }
  int64_t gate_offset(int task) const { return gate_offset_[static_cast<size_t>(task)]; }

  // "<prefix>.experts.kernel" [in, E*expert_dim], ".experts.bias",
  // ".gates.kernel" [in, total gate width], ".gates.bias".
  std::vector<ParameterRef> parameters(const std::string& prefix);
  std::vector<ParameterView> parameter_values(const std::string& prefix) const;

  // What a layer of this shape allocates (footprint.h): expert and gate
  // weights, their gradients, and moe_workspace_floats of workspace.
  static Footprint footprint(int64_t in, const MoeLayout& layout, int64_t max_batch);
  Footprint allocated() const;

 private:
  // Expert activations and gate probabilities of rows x [n, in] into h, g.
  void compute(const float* x, int64_t n, float* h, float* g) const;
  // y [n, expert_dim] = task t's mixture of h by g.
  void mix(int task, const float* h, const float* g, int64_t n, float* y) const;

  int64_t in_, max_batch_;
  MoeLayout layout_;
  int64_t width_;       // total experts * expert_dim
  int64_t gate_total_;  // total gate width
  std::vector<std::vector<int64_t>> experts_of_;
  std::vector<int64_t> gate_offset_;
  std::vector<float> w_, b_, gw_, gb_;      // parameters
  std::vector<float> dw_, db_, dgw_, dgb_;  // their gradients
  // Workspace [max_batch, ...].
  std::vector<float> h_, gates_, dh_, dlogits_;
  std::vector<std::vector<float>> y_, dy_;
};

}  // namespace tandem
