#include "tandem/model/embedding_table.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "tandem/core/error.h"

namespace tandem {

EmbeddingTable::EmbeddingTable(int64_t rows_, int64_t dim_) : rows(rows_), dim(dim_) {
  TANDEM_CHECK(rows_ > 0 && dim_ > 0,
               "embedding table needs positive rows and dimension, got " << rows_ << " x " << dim_);
  weights.assign(static_cast<size_t>(rows_ * dim_), 0.0f);
}

void EmbeddingTable::init_uniform(Rng& rng, float lo, float hi) {
  for (float& w : weights) w = rng.uniform(lo, hi);
}

void EmbeddingTable::gather(const int32_t* ids, int64_t n, float* out) const {
  const size_t bytes = static_cast<size_t>(dim) * sizeof(float);
  for (int64_t i = 0; i < n; ++i) {
    assert(ids[i] >= 0 && ids[i] < rows);
    std::memcpy(out + i * dim, weights.data() + static_cast<int64_t>(ids[i]) * dim, bytes);
  }
}

RowGradient::RowGradient(int64_t table_rows, int64_t dim, int64_t max_batch)
    : dim_(dim),
      grads_(static_cast<size_t>(max_batch * dim)),
      slot_of_row_(static_cast<size_t>(table_rows), -1) {
  rows_.reserve(static_cast<size_t>(max_batch));
}

void RowGradient::assign(const int32_t* ids, const float* grads, int64_t n, float scale) {
  for (int32_t r : rows_) slot_of_row_[static_cast<size_t>(r)] = -1;
  rows_.clear();
  TANDEM_CHECK(n * dim_ <= static_cast<int64_t>(grads_.size()),
               "batch of " << n << " exceeds the gradient buffer");
  for (int64_t i = 0; i < n; ++i) {
    const int32_t r = ids[i];
    int32_t slot = slot_of_row_[static_cast<size_t>(r)];
    float* dst;
    const float* src = grads + i * dim_;
    if (slot < 0) {
      slot = static_cast<int32_t>(rows_.size());
      slot_of_row_[static_cast<size_t>(r)] = slot;
      rows_.push_back(r);
      dst = grads_.data() + static_cast<int64_t>(slot) * dim_;
      for (int64_t j = 0; j < dim_; ++j) dst[j] = scale * src[j];
    } else {
      dst = grads_.data() + static_cast<int64_t>(slot) * dim_;
      for (int64_t j = 0; j < dim_; ++j) dst[j] += scale * src[j];
    }
  }
}

Footprint EmbeddingTable::footprint(int64_t rows, int64_t dim) {
  return {bytes_of<float>(footprint_mul(rows, dim)), 0, 0};
}

Footprint EmbeddingTable::allocated() const { return {bytes_held(weights), 0, 0}; }

Footprint RowGradient::footprint(int64_t table_rows, int64_t dim, int64_t max_batch) {
  return {0, bytes_of<float>(footprint_mul(max_batch, dim)),
          footprint_add(bytes_of<int32_t>(table_rows), bytes_of<int32_t>(max_batch))};
}

Footprint RowGradient::allocated() const {
  return {0, bytes_held(grads_), bytes_held(slot_of_row_) + bytes_held(rows_)};
}

}  // namespace tandem
