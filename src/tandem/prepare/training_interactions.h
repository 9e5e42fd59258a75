// What a trained model keeps of its training examples, for serving: how
// often each item-table row was trained on (cold-start popularity) and each
// user-table row's distinct item rows ("exclude seen"). Built once from the
// examples in memory: by training on them (TrainedModel), or by `data
// prepare --output`, which stores it so that training from the store never
// builds or holds it.
#pragma once

#include <cstdint>
#include <vector>

#include "tandem/data/examples.h"

namespace tandem {

struct TrainingInteractions {
  std::vector<int64_t> item_counts;   // per item row: training examples of it
  std::vector<int64_t> seen_offsets;  // per user row + 1: user u's items are
  std::vector<int32_t> seen_items;    // seen_items[seen_offsets[u] .. seen_offsets[u + 1]), sorted, distinct
};

// Sorts each user's range seen_items[offsets[u] .. offsets[u + 1]) (items in
// any order, repeats included), drops the repeats and packs the ranges to
// the front in user order, updating `offsets` and shrinking `items`: the
// last step of building the index from counted, filled ranges.
void sort_and_pack_seen(std::vector<int64_t>& offsets, std::vector<int32_t>& items);

// Errors: an example's rows outside [0, user_rows) x [0, item_rows).
TrainingInteractions index_training_interactions(const Examples& train, int64_t user_rows, int64_t item_rows);

}  // namespace tandem
