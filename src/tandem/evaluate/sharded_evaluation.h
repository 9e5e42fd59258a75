// Evaluation of a model whose embedding tables are sharded over the ranks of
// a job (multitask_model.h, set_communicator): the protocol of evaluate()
// (evaluation.h), the same metrics, with every rank scoring only the
// catalogue rows it holds. The query vectors and the test pairs' rows are
// fetched from their owners; the per-target counts of higher-scoring
// candidates are summed over the ranks (rank_targets_sharded), and the
// metrics come from those ranks as in one process. Collective: every rank
// calls it with the same test set; every rank gets the result.
#pragma once

#include <functional>

#include "tandem/core/communicator.h"
#include "tandem/evaluate/evaluation.h"

namespace tandem {

EvalResult evaluate_sharded(MultiTaskModel& model, const ExperimentConfig& config,
                            const RetrievalCatalogue& catalogue, const Examples& test,
                            const std::vector<float>& test_ratings,
                            const std::function<void(int64_t done, int64_t total)>& on_progress = {},
                            const SeenItems* seen = nullptr);

}  // namespace tandem
