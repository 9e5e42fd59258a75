// The trained model's training-interaction index (item counts, each user's
// seen items) built from a store's train columns read in blocks: the same
// arrays TrainedModel::set_training_interactions makes from examples in
// memory, with the seen items as the only array the size of the data.
#pragma once

#include "tandem/artifact/trained_model.h"
#include "tandem/prepare/prepared_store.h"

namespace tandem {

// Fills m.item_train_counts, m.seen_offsets and m.seen_items (m.users and
// m.items must be the store's vocabularies).
void index_store_interactions(const PreparedStore& store, TrainedModel& m);

}  // namespace tandem
