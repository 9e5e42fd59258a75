// The rating head applied to many items for one user, the shape of every
// serving request (u, i below: the user and item vectors, i.e. the id
// embeddings or, with side-feature towers, the towers' outputs, which are
// computed once for every row when the ranker is built).
// serving request. The head's first layer reads concat(user, item), so
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

  bool precomputed() const { return !item_part_.empty(); }
  // The vector retrieval and ranking read for a user-table row: its
  // embedding, or (with towers) its user-tower output, computed for every
  // row at construction with a timestamp feature at its most recent bucket.
  const float* user_vector(int32_t user) const;
  const float* item_vector(int32_t item) const;
  int64_t precomputed_bytes() const { return static_cast<int64_t>(item_part_.size() * sizeof(float)); }

 private:
  const MultiTaskModel& model_;
  int64_t dim_, width_;          // embedding dim d, first layer width h1
  std::vector<float> item_part_;  // [item rows, h1] = item vectors W1[d:], or empty
  // With towers: every user-table / item-table row's tower output.
  std::vector<float> user_vecs_, item_vecs_;
};

}  // namespace tandem
