#include "tandem/core/memory_bandwidth.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

#include "tandem/core/error.h"
#include "tandem/core/thread_pool.h"

namespace tandem {

const char* stream_kernel_name(StreamKernel k) { return k == StreamKernel::kCopy ? "copy" : "triad"; }

int64_t stream_pass_bytes(StreamKernel kernel, int64_t n) {
  const int64_t arrays = kernel == StreamKernel::kCopy ? 2 : 3;
  return arrays * n * static_cast<int64_t>(sizeof(double));
}

void stream_pass(StreamKernel kernel, double* a, double* b, double* c, double scalar, int64_t begin,
                 int64_t end) {
  if (kernel == StreamKernel::kCopy) {
    for (int64_t i = begin; i < end; ++i) c[i] = a[i];
  } else {
    for (int64_t i = begin; i < end; ++i) a[i] = b[i] + scalar * c[i];
  }
}

int64_t default_stream_array_bytes() {
  constexpr int64_t kMiB = int64_t{1} << 20;
  int64_t llc = 0;
#ifdef _SC_LEVEL3_CACHE_SIZE
  llc = std::max<int64_t>(llc, sysconf(_SC_LEVEL3_CACHE_SIZE));
#endif
#ifdef _SC_LEVEL2_CACHE_SIZE
  llc = std::max<int64_t>(llc, sysconf(_SC_LEVEL2_CACHE_SIZE));
#endif
  return std::clamp<int64_t>(llc, 64 * kMiB, 256 * kMiB);
}

nlohmann::json MemoryBandwidth::to_json() const {
  return {{"threads", threads},
          {"array_mib", static_cast<double>(array_bytes) / (1024.0 * 1024.0)},
          {"passes", passes},
          {"copy_gbs", copy_gbs},
          {"triad_gbs", triad_gbs}};
}

namespace {

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

}  // namespace

MemoryBandwidth measure_memory_bandwidth(int threads, int64_t array_bytes, int passes) {
  TANDEM_CHECK(threads >= 1, "memory bandwidth: threads must be >= 1, got " << threads);
  TANDEM_CHECK(passes >= 1, "memory bandwidth: passes must be >= 1, got " << passes);
  if (array_bytes == 0) array_bytes = default_stream_array_bytes();
  const int64_t n = array_bytes / static_cast<int64_t>(sizeof(double));
  TANDEM_CHECK(n >= threads, "memory bandwidth: arrays of " << array_bytes << " bytes hold fewer doubles than the "
                                                            << threads << " threads");
  // Uninitialised storage, first touched by the worker that sweeps it.
  std::unique_ptr<double[]> a(new double[static_cast<size_t>(n)]), b(new double[static_cast<size_t>(n)]),
      c(new double[static_cast<size_t>(n)]);
  ThreadPool pool(threads);
  pool.run([&](int w) {
    const Range r = split_range(n, threads, w);
    std::fill(a.get() + r.begin, a.get() + r.end, 1.0);
    std::fill(b.get() + r.begin, b.get() + r.end, 2.0);
    std::fill(c.get() + r.begin, c.get() + r.end, 0.0);
  });
  const auto pass_gbs = [&](StreamKernel k) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.run([&](int w) {
      const Range r = split_range(n, threads, w);
      stream_pass(k, a.get(), b.get(), c.get(), 3.0, r.begin, r.end);
    });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return static_cast<double>(stream_pass_bytes(k, n)) / std::max(s, 1e-9) / 1e9;
  };
  std::vector<double> copy, triad;
  pass_gbs(StreamKernel::kCopy);  // untimed: faults, frequency ramp
  pass_gbs(StreamKernel::kTriad);
  for (int p = 0; p < passes; ++p) {
    copy.push_back(pass_gbs(StreamKernel::kCopy));
    triad.push_back(pass_gbs(StreamKernel::kTriad));
  }
  MemoryBandwidth out;
  out.threads = threads;
  out.array_bytes = n * static_cast<int64_t>(sizeof(double));
  out.passes = passes;
  out.copy_gbs = median_of(copy);
  out.triad_gbs = median_of(triad);
  return out;
}

}  // namespace tandem
