// Training/evaluation examples after vocabulary lookup: embedding-table rows
// and the label the ranking task learns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tandem {

struct Examples {
  std::vector<int32_t> users;  // user-table rows
  std::vector<int32_t> items;  // item-table rows
  std::vector<float> labels;   // ranking label (the rating after the preset's transform)
  // Interaction timestamps (prepare_data fills them; read only by a model
  // with a timestamp feature). May be empty: then no example has one.
  std::vector<int64_t> timestamps;
  // Per-example sample weight (a generic CSV's weight column); empty = all 1.
  std::vector<float> weights;

  size_t size() const { return users.size(); }
};

}  // namespace tandem
