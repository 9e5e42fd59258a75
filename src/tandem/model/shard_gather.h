// Putting a sharded model back together: every rank's rows of every table
// (and the dense parameters, identical on every rank) into one whole model
// on rank 0, which can then be saved, evaluated and served as a model
// trained in one process.
#pragma once

#include "tandem/core/communicator.h"
#include "tandem/model/multitask_model.h"

namespace tandem {

// Collective. `whole` (rank 0 only; null elsewhere) must have the shard's
// shape unsharded; its parameters are overwritten. Tables travel one at a
// time, so rank 0 holds at most one table's rows twice.
void gather_shards(const MultiTaskModel& shard, Communicator& comm, MultiTaskModel* whole);

}  // namespace tandem
