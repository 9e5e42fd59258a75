#include "tandem/serve/candidate_ranker.h"

#include <algorithm>

#include "tandem/core/blas.h"
#include "tandem/core/error.h"

namespace tandem {

CandidateRanker::CandidateRanker(const MultiTaskModel& model, int64_t precompute_budget_bytes)
    : model_(model), dim_(model.task_dim()) {
  const Mlp& head = model_.rating_head();
  TANDEM_CHECK(head.layer_count() > 0 && head.in() == 2 * dim_,
               "ranking expects a head over concat(user, item) of width " << 2 * dim_ << ", got "
                                                                         << head.in());
  width_ = head.layer(0).out();
  const EmbeddingTable& items = model_.item_table();
  const int64_t rows = items.rows;
  items_ = items.weights.data();
  if (!model_.embeddings_are_task_vectors()) {
    std::vector<int32_t> all(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) all[static_cast<size_t>(r)] = static_cast<int32_t>(r);
    item_vectors_.resize(static_cast<size_t>(rows * dim_));
    std::vector<float> scratch;
    model_.item_vectors(Task::kRanking, all.data(), rows, item_vectors_.data(), scratch);
    items_ = item_vectors_.data();
  }
  if (rows * width_ * static_cast<int64_t>(sizeof(float)) <= precompute_budget_bytes) {
    item_part_.resize(static_cast<size_t>(rows * width_));
    // The kernel is [2d, h1] row-major: its item half starts at row d.
    const float* w_item = head.layer(0).kernel_values() + dim_ * width_;
    blas::gemm(false, false, rows, width_, dim_, 1.0f, items_, dim_, w_item, width_, 0.0f,
               item_part_.data(), width_);
  }
}

namespace {
void grow(std::vector<float>& v, int64_t size) {
  if (static_cast<int64_t>(v.size()) < size) v.resize(static_cast<size_t>(size));
}
}  // namespace

void CandidateRanker::predict(int32_t user, const int32_t* items, int64_t n, float* out,
                              Scratch& s) const {
  if (n <= 0) return;
  const float* u = model_.user_table().row(user);
  if (!model_.embeddings_are_task_vectors()) {
    grow(s.user_vector, dim_);
    model_.user_vectors(Task::kRanking, &user, 1, s.user_vector.data(), s.tower);
    u = s.user_vector.data();
  }
  predict_for_vector(u, items, n, out, s);
}

void CandidateRanker::predict_for_vector(const float* u, const int32_t* items, int64_t n,
                                         float* out, Scratch& s) const {
  if (n <= 0) return;
  const Mlp& head = model_.rating_head();
  const DenseLayer& first = head.layer(0);
  // User half plus bias: [h1] = b1 + u W1[:d].
  grow(s.user_part, width_);
  std::copy(first.bias_values(), first.bias_values() + width_, s.user_part.begin());
  blas::gemv(true, dim_, width_, 1.0f, first.kernel_values(), width_, u, 1.0f,
             s.user_part.data());

  // First layer's pre-activations, one row per candidate.
  const bool single = head.layer_count() == 1;
  int64_t widest = width_;
  for (size_t i = 1; i < head.layer_count(); ++i) widest = std::max(widest, head.layer(i).out());
  grow(s.act_a, n * widest);
  grow(s.act_b, n * widest);
  float* h = single ? out : s.act_a.data();
  const bool relu = first.activation() == Activation::kRelu;
  const float* user_part = s.user_part.data();
  // row = activation(item_part + user_part); as DenseLayer: NaN -> 0 under ReLU.
  const auto add_user_part = [&](const float* item_part, float* row) {
    for (int64_t j = 0; j < width_; ++j) {
      const float v = item_part[j] + user_part[j];
      row[j] = !relu || v > 0.0f ? v : 0.0f;
    }
  };
  if (precomputed()) {
    // Read straight from the precomputed rows: no copy of them first.
    for (int64_t r = 0; r < n; ++r)
      add_user_part(item_part_.data() + static_cast<int64_t>(items[r]) * width_, h + r * width_);
  } else {
    grow(s.items, n * dim_);
    for (int64_t r = 0; r < n; ++r) std::copy_n(item_row(items[r]), dim_, s.items.data() + r * dim_);
    blas::gemm(false, false, n, width_, dim_, 1.0f, s.items.data(), dim_,
               first.kernel_values() + dim_ * width_, width_, 0.0f, h, width_);
    for (int64_t r = 0; r < n; ++r) add_user_part(h + r * width_, h + r * width_);
  }
  if (single) return;

  // The other layers, ping-ponging between the two activation buffers.
  const float* cur = s.act_a.data();
  for (size_t i = 1; i < head.layer_count(); ++i) {
    const bool last = i + 1 == head.layer_count();
    float* dst = last ? out : (i % 2 == 1 ? s.act_b.data() : s.act_a.data());
    head.layer(i).forward(cur, n, dst);
    cur = dst;
  }
}

}  // namespace tandem
