// Combining what the worker threads of one loss computed, each over its own
// rows (RetrievalSoftmaxLoss's kernels).
#pragma once

#include <cstddef>
#include <vector>

namespace tandem {

// A loss computed by `workers` threads, each over its own rows: the sum of
// their losses in worker order, and their partial gradients added onto
// `out` (size floats), which worker 0 wrote into directly, from worker 1 on
// (partial(w) is worker w's buffer). A fixed order keeps the result
// deterministic for a given worker count.
template <typename PartialOf>
double sum_worker_results(const std::vector<double>& losses, int workers, PartialOf&& partial,
                          float* out, size_t size) {
  double loss = 0.0;
  for (int w = 0; w < workers; ++w) {
    loss += losses[static_cast<size_t>(w)];
    if (w == 0) continue;
    const float* p = partial(w);
    for (size_t i = 0; i < size; ++i) out[i] += p[i];
  }
  return loss;
}

}  // namespace tandem
