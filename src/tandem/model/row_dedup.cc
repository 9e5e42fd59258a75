#include "tandem/model/row_dedup.h"

#include "tandem/core/error.h"

namespace tandem {

RowDedup::RowDedup(int64_t table_rows, int64_t max_batch)
    : slot_of_id_(static_cast<size_t>(table_rows), -1) {
  ids_.reserve(static_cast<size_t>(max_batch));
  index_.reserve(static_cast<size_t>(max_batch));
  first_.reserve(static_cast<size_t>(max_batch));
  counts_.reserve(static_cast<size_t>(max_batch));
}

void RowDedup::assign(const int32_t* ids, int64_t n) {
  for (int32_t id : ids_) slot_of_id_[static_cast<size_t>(id)] = -1;
  ids_.clear();
  index_.clear();
  first_.clear();
  counts_.clear();
  for (int64_t i = 0; i < n; ++i) {
    const int32_t id = ids[i];
    TANDEM_CHECK(id >= 0 && static_cast<size_t>(id) < slot_of_id_.size(),
                 "row id " << id << " outside the table of " << slot_of_id_.size() << " rows");
    int32_t& slot = slot_of_id_[static_cast<size_t>(id)];
    if (slot < 0) {
      slot = static_cast<int32_t>(first_.size());
      ids_.push_back(id);
      first_.push_back(static_cast<int32_t>(i));
      counts_.push_back(0.0f);
    }
    counts_[static_cast<size_t>(slot)] += 1.0f;
    index_.push_back(slot);
  }
}

void add_to_first_examples(const RowDedup& rows, const float* src, int64_t d, float* dst) {
  for (int64_t u = 0; u < rows.distinct(); ++u) {
    float* to = dst + static_cast<int64_t>(rows.first()[static_cast<size_t>(u)]) * d;
    const float* from = src + u * d;
    for (int64_t j = 0; j < d; ++j) to[j] += from[j];
  }
}

Footprint RowDedup::footprint(int64_t table_rows, int64_t max_batch) {
  // ids_, index_, first_ (int32) and counts_ (float): four per example.
  return {0, 0, footprint_add(bytes_of<int32_t>(table_rows), bytes_of<int32_t>(footprint_mul(max_batch, 4)))};
}

Footprint RowDedup::allocated() const {
  return {0, 0,
          bytes_held(slot_of_id_) + bytes_held(ids_) + bytes_held(index_) + bytes_held(first_) +
              bytes_held(counts_)};
}

}  // namespace tandem
