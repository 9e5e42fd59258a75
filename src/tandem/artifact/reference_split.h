// Re-creates the test set of a trained model: its own seeded split (from the
// seed, sizes and data directory stored in the model file) or an explicit
// test file, encoded with the model's vocabularies.
#pragma once

#include <string>

#include "tandem/prepare/prepared_data.h"
#include "tandem/artifact/trained_model.h"

namespace tandem {

// `data_dir_override` replaces the stored data directory when non-empty;
// `test_file` (when non-empty) is used instead of the model's own split.
PreparedData model_test_set(const TrainedModel& model, const std::string& data_dir_override,
                            const std::string& test_file);

}  // namespace tandem
