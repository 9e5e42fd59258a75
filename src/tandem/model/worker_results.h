// Combining what the worker threads of one loss computed, each over its own
// rows (RetrievalSoftmaxLoss's kernels, the heads' dense gradients).
#pragma once

#include <cstddef>
#include <vector>

#include "tandem/core/thread_pool.h"
#include "tandem/model/step_profile.h"

namespace tandem {

// Below this many floats a reduction stays on the calling thread: waking
// the pool costs more than the adds.
constexpr size_t kParallelReduceFloats = size_t{1} << 14;

// out[i] += partial(1)[i] + partial(2)[i] + ... for i < size, in worker order
// for every element. With a pool (and enough floats), each worker adds up
// its own contiguous slice of the elements: the same sums in the same order
// as on one thread, so the result is bit for bit the serial one, but every
// thread reads its share of the partial buffers at once instead of one
// thread reading them all.
template <typename PartialOf>
void add_worker_partials(int workers, PartialOf&& partial, float* out, size_t size, ThreadPool* pool) {
  if (workers <= 1 || size == 0) return;
  const auto add_slice = [&](size_t begin, size_t end) {
    for (int w = 1; w < workers; ++w) {
      const float* p = partial(w);
      for (size_t i = begin; i < end; ++i) out[i] += p[i];
    }
  };
  if (pool == nullptr || pool->size() <= 1 || size < kParallelReduceFloats) {
    add_slice(0, size);
    return;
  }
  pool->run([&](int worker) {
    const Range r = split_range(static_cast<int64_t>(size), pool->size(), worker);
    add_slice(static_cast<size_t>(r.begin), static_cast<size_t>(r.end));
  });
}

// A loss computed by `workers` threads, each over its own rows: the sum of
// their losses in worker order, and their partial gradients added onto
// `out` (size floats), which worker 0 wrote into directly, from worker 1 on
// (partial(w) is worker w's buffer). A fixed order keeps the result
// deterministic for a given worker count. The time goes to `profile`'s
// reduce phase (null: not recorded).
template <typename PartialOf>
double sum_worker_results(const std::vector<double>& losses, int workers, PartialOf&& partial,
                          float* out, size_t size, ThreadPool* pool = nullptr,
                          StepProfile* profile = nullptr) {
  PhaseTimer timer(profile, StepPhase::kReduce);
  double loss = 0.0;
  for (int w = 0; w < workers; ++w) loss += losses[static_cast<size_t>(w)];
  add_worker_partials(workers, partial, out, size, pool);
  return loss;
}

}  // namespace tandem
