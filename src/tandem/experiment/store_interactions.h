// The trained model's training-interaction index (item counts, each user's
// seen items) for training from a store: the store's own index files (the
// seen items read from the file when needed, never held), or for an older
// store without them, built from its train columns read in blocks (the same
// arrays TrainedModel::set_training_interactions makes from examples in
// memory, the seen items the only array the size of the data).
#pragma once

#include "tandem/artifact/trained_model.h"
#include "tandem/prepare/prepared_store.h"

namespace tandem {

// Fills m.item_train_counts, m.seen_offsets and the seen items (m.users and
// m.items must be the store's vocabularies). A store that holds the index
// (written by data prepare since it stores one) gives the per-row arrays and
// a reader of its seen-items file (m.seen_reader; m.seen_items stays empty);
// an older store's train columns are read in blocks to build it in memory.
void index_store_interactions(const PreparedStore& store, TrainedModel& m);

}  // namespace tandem
