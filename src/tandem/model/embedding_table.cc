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

void EmbeddingTable::init_uniform_shard(Rng& rng, const TableShard& shard, int64_t global_rows, float lo,
                                        float hi) {
  if (!shard.sharded()) {
    init_uniform(rng, lo, hi);
    return;
  }
  TANDEM_CHECK(shard.rows_of(global_rows) == rows,
               "a shard of " << rows << " rows cannot hold rank " << shard.rank << "'s part of "
                             << global_rows << " rows");
  for (int64_t g = 0; g < global_rows; ++g) {
    float* out = shard.owner(g) == shard.rank ? row(shard.local(g)) : nullptr;
    for (int64_t j = 0; j < dim; ++j) {
      const float v = rng.uniform(lo, hi);
      if (out != nullptr) out[j] = v;
    }
  }
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
      slot_of_row_(static_cast<size_t>(table_rows), -1),
      example_slot_(static_cast<size_t>(max_batch)),
      first_example_(static_cast<size_t>(max_batch)) {
  rows_.reserve(static_cast<size_t>(max_batch));
}

void RowGradient::assign(const int32_t* ids, const float* grads, int64_t n, float scale, ThreadPool* pool) {
  for (int32_t r : rows_) slot_of_row_[static_cast<size_t>(r)] = -1;
  rows_.clear();
  TANDEM_CHECK(n * dim_ <= static_cast<int64_t>(grads_.size()),
               "batch of " << n << " exceeds the gradient buffer");
  // Slots in order of first appearance: the order every later pass keeps.
  for (int64_t i = 0; i < n; ++i) {
    const int32_t r = ids[i];
    int32_t slot = slot_of_row_[static_cast<size_t>(r)];
    if (slot < 0) {
      slot = static_cast<int32_t>(rows_.size());
      slot_of_row_[static_cast<size_t>(r)] = slot;
      rows_.push_back(r);
      first_example_[static_cast<size_t>(slot)] = static_cast<int32_t>(i);
    }
    example_slot_[static_cast<size_t>(i)] = slot;
  }
  // A slot's first example writes its row (scale * g: no 0 + x, which would
  // turn a -0 into +0), the later ones add, in batch order.
  const int64_t slots = count(), d = dim_;
  const auto sum_slots = [&](int64_t lo, int64_t hi) {
    for (int64_t i = 0; i < n; ++i) {
      const int32_t slot = example_slot_[static_cast<size_t>(i)];
      if (slot < lo || slot >= hi) continue;
      float* dst = grads_.data() + static_cast<int64_t>(slot) * d;
      const float* src = grads + i * d;
      if (first_example_[static_cast<size_t>(slot)] == i) {
        for (int64_t j = 0; j < d; ++j) dst[j] = scale * src[j];
      } else {
        for (int64_t j = 0; j < d; ++j) dst[j] += scale * src[j];
      }
    }
  };
  // Below a few thousand values a region's hand-over costs more than it saves.
  if (pool == nullptr || pool->size() == 1 || n * d < 16384) {
    sum_slots(0, slots);
    return;
  }
  const int workers = pool->size();
  pool->run([&](int w) {
    const Range r = split_range(slots, workers, w);
    if (r.size() > 0) sum_slots(r.begin, r.end);
  });
}

Footprint EmbeddingTable::footprint(int64_t rows, int64_t dim) {
  return {bytes_of<float>(footprint_mul(rows, dim)), 0, 0};
}

Footprint EmbeddingTable::allocated() const { return {bytes_held(weights), 0, 0}; }

Footprint RowGradient::footprint(int64_t table_rows, int64_t dim, int64_t max_batch) {
  return {0, bytes_of<float>(footprint_mul(max_batch, dim)),
          footprint_add(bytes_of<int32_t>(table_rows), bytes_of<int32_t>(footprint_mul(max_batch, 3)))};
}

Footprint RowGradient::allocated() const {
  return {0, bytes_held(grads_), bytes_held(slot_of_row_) + bytes_held(rows_) + bytes_held(example_slot_) +
                 bytes_held(first_example_)};
}

}  // namespace tandem
