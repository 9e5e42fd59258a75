// The towers' definitions in a model file: per side, its layers and
// features (name, table shape, each entity row's bag of feature rows, the
// timestamp's bucket boundaries, the lookup vocabulary's values), so that a
// loaded model computes the same tower outputs as the trained one. A file
// without them (older files, models without features) has no towers.
#pragma once

#include <string>

#include "tandem/io/model_file.h"
#include "tandem/model/multitask_model.h"

namespace tandem {

// Adds shape's towers to the bundle (nothing when it has none).
void add_towers(const ModelShape& shape, ModelBundle& bundle);
// Reads them into shape.user_tower / item_tower (left empty when the file
// has none); errors name `source`.
void read_towers(const ModelBundle& bundle, const std::string& source, ModelShape& shape);

}  // namespace tandem
