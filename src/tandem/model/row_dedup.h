// Distinct ids of a batch, in order of first appearance, with each example's
// index into that list and each distinct id's count and first example.
#pragma once

#include <cstdint>
#include <vector>

#include "tandem/model/footprint.h"

namespace tandem {

class RowDedup {
 public:
  RowDedup() = default;
  // `table_rows` bounds the ids; `max_batch` the batch size.
  RowDedup(int64_t table_rows, int64_t max_batch);

  void assign(const int32_t* ids, int64_t n);

  int64_t distinct() const { return static_cast<int64_t>(first_.size()); }
  const std::vector<int32_t>& index() const { return index_; }   // per example
  const std::vector<float>& counts() const { return counts_; }   // per distinct id
  const std::vector<int32_t>& first() const { return first_; }   // per distinct id

  // What one for these bounds allocates (all workspace): the table-sized
  // slot index and four max_batch lists.
  static Footprint footprint(int64_t table_rows, int64_t max_batch);
  Footprint allocated() const;

 private:
  std::vector<int32_t> slot_of_id_;  // table-sized, -1 when absent from the batch
  std::vector<int32_t> ids_;         // distinct ids (to reset slot_of_id_)
  std::vector<int32_t> index_, first_;
  std::vector<float> counts_;
};

// Adds each distinct row's gradient (src [distinct, d]) onto the first
// example of that row in dst ([n, d]): the per-row sums, which are all a
// RowGradient keeps, come out the same as if every example had its share.
void add_to_first_examples(const RowDedup& rows, const float* src, int64_t d, float* dst);

}  // namespace tandem
