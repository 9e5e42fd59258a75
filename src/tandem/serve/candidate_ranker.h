// The rating head applied to many items for one user, the shape of every
// serving request. The head reads concat(user, item) of the ranking task's
// vectors: the embedding rows with a shared bottom; with mmoe/ple the towers'
// ranking outputs, computed once at load for every item row (and per request
// for the user). The first layer then splits as
//   [u, i] W1 + b1 = (u W1[:d] + b1) + i W1[d:]
// The user half is one GEMV per request; the item half is a property of the
// item alone and is precomputed for the whole item table at load time when it
// fits the memory budget (then a request pays a gather and an add per
// candidate instead of a [n, 2d] x [2d, h1] GEMM), and otherwise computed per
// request as an [n, d] x [d, h1] GEMM (still half the first layer's work).
// The remaining layers run as in Mlp::predict.
#pragma once

#include <cstdint>
#include <vector>

#include "tandem/model/multitask_model.h"

namespace tandem {

class CandidateRanker {
 public:
  // Per-thread buffers (fastText's Model::State): reused across calls so a
  // request allocates only while they grow to its size.
  struct Scratch {
    std::vector<float> user_part, items, act_a, act_b;
    std::vector<float> user_vector, tower;  // mmoe/ple: the user's ranking vector
  };

  // `model` must outlive the ranker and not change while it is used.
  // Precomputes the item half when item rows x first-layer width x 4 bytes
  // is at most `precompute_budget_bytes`.
  CandidateRanker(const MultiTaskModel& model, int64_t precompute_budget_bytes);

  // Head outputs (the label scale, as MultiTaskModel::predict_ratings) for
  // user row `user` and `n` item rows, into out[n]. Equal to predict_ratings
  // up to float rounding (the first layer's sums are grouped differently).
  // Thread-safe with one Scratch per thread.
  void predict(int32_t user, const int32_t* items, int64_t n, float* out, Scratch& scratch) const;
  // The same for a user given by its ranking vector ([task_dim()], e.g. a
  // cold-start user described by its features).
  void predict_for_vector(const float* user_vector, const int32_t* items, int64_t n, float* out,
                          Scratch& scratch) const;

  bool precomputed() const { return !item_part_.empty(); }
  int64_t precomputed_bytes() const { return static_cast<int64_t>(item_part_.size() * sizeof(float)); }

 private:
  // The ranking task's item vectors [item rows, d]: the item table's weights
  // with a shared bottom, else item_vectors_ (precomputed at load).
  const float* item_row(int64_t r) const { return items_ + r * dim_; }

  const MultiTaskModel& model_;
  int64_t dim_, width_;           // task vector width d, first layer width h1
  std::vector<float> item_vectors_;  // mmoe/ple: [item rows, d]; empty with a shared bottom
  const float* items_ = nullptr;
  std::vector<float> item_part_;  // [item rows, h1] = items W1[d:], or empty
};

}  // namespace tandem
