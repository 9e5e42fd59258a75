// The machine's memory bandwidth, measured the way STREAM does: a copy
// (c = a) and a triad (a = b + s * c) over arrays of doubles much larger than
// the last-level cache, each thread sweeping its own contiguous part (which
// it also first touched, so its pages are local to it), median of several
// passes. `tandem bench` reports it in its machine row, and `tandem train
// --profile` compares a step's estimated bytes (step_traffic.h) with it.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

namespace tandem {

enum class StreamKernel { kCopy, kTriad };
const char* stream_kernel_name(StreamKernel k);

// Bytes one pass of `kernel` over arrays of n doubles moves, counted as STREAM
// counts them (reads plus writes, the write-allocate read not counted): copy
// reads a and writes c (2 arrays), triad reads b and c and writes a (3).
int64_t stream_pass_bytes(StreamKernel kernel, int64_t n);

// One pass of `kernel` over elements [begin, end) of the three arrays:
// copy c[i] = a[i]; triad a[i] = b[i] + scalar * c[i].
void stream_pass(StreamKernel kernel, double* a, double* b, double* c, double scalar, int64_t begin,
                 int64_t end);

// Bytes per array by default: the last-level cache the system reports
// (sysconf), at least 64 MiB, at most 256 MiB, so that the three arrays
// together are three times the cache without taking more than 768 MiB. (A
// VM may report the whole socket's L3, 508 MiB on the project's machine,
// of which its cores see one complex's share, 32-96 MiB on an EPYC.)
int64_t default_stream_array_bytes();

struct MemoryBandwidth {
  int threads = 1;
  int64_t array_bytes = 0;  // per array (three of them)
  int passes = 0;
  double copy_gbs = 0.0;   // median over the passes, 1e9 bytes per second
  double triad_gbs = 0.0;
  nlohmann::json to_json() const;
};

// Copy and triad bandwidth on `threads` threads (the project's ThreadPool,
// each worker its split_range part), `passes` timed passes of each after one
// untimed, medians. `array_bytes` 0 = default_stream_array_bytes().
// Errors: threads < 1, passes < 1, arrays smaller than one double per thread.
MemoryBandwidth measure_memory_bandwidth(int threads, int64_t array_bytes = 0, int passes = 5);

}  // namespace tandem
