#include "tandem/core/memory_bandwidth.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tandem/core/error.h"
#include "tandem/core/thread_pool.h"

namespace tandem {
namespace {

TEST(MemoryBandwidth, PassBytesCountReadsAndWritesAsStreamDoes) {
  // copy: a read, c written; triad: b and c read, a written (8 bytes each).
  EXPECT_EQ(stream_pass_bytes(StreamKernel::kCopy, 10), 2 * 10 * 8);
  EXPECT_EQ(stream_pass_bytes(StreamKernel::kTriad, 10), 3 * 10 * 8);
  EXPECT_EQ(stream_pass_bytes(StreamKernel::kTriad, 0), 0);
}

TEST(MemoryBandwidth, PassesComputeCopyAndTriadOnTheirRangeOnly) {
  std::vector<double> a = {1, 2, 3, 4, 5}, b = {10, 20, 30, 40, 50}, c = {0, 0, 0, 0, 0};
  stream_pass(StreamKernel::kCopy, a.data(), b.data(), c.data(), 3.0, 1, 4);
  EXPECT_EQ(c, (std::vector<double>{0, 2, 3, 4, 0}));
  stream_pass(StreamKernel::kTriad, a.data(), b.data(), c.data(), 3.0, 0, 5);
  // a = b + 3 c
  EXPECT_EQ(a, (std::vector<double>{10, 26, 39, 52, 50}));
  EXPECT_EQ(b, (std::vector<double>{10, 20, 30, 40, 50}));
}

TEST(MemoryBandwidth, SplitPassesEqualOneSerialPass) {
  const int64_t n = 1001;
  std::vector<double> a1(n), b(n), c(n);
  for (int64_t i = 0; i < n; ++i) {
    b[static_cast<size_t>(i)] = 0.5 * static_cast<double>(i);
    c[static_cast<size_t>(i)] = 1.0 / static_cast<double>(i + 1);
  }
  std::vector<double> a2 = a1;
  stream_pass(StreamKernel::kTriad, a1.data(), b.data(), c.data(), 3.0, 0, n);
  for (int w = 0; w < 3; ++w) {
    const Range r = split_range(n, 3, w);
    stream_pass(StreamKernel::kTriad, a2.data(), b.data(), c.data(), 3.0, r.begin, r.end);
  }
  EXPECT_EQ(a1, a2);
}

TEST(MemoryBandwidth, MeasurementReportsWhatItRan) {
  const MemoryBandwidth m = measure_memory_bandwidth(2, 1 << 20, 2);
  EXPECT_EQ(m.threads, 2);
  EXPECT_EQ(m.passes, 2);
  EXPECT_EQ(m.array_bytes, 1 << 20);
  EXPECT_TRUE(std::isfinite(m.copy_gbs) && m.copy_gbs > 0.0);
  EXPECT_TRUE(std::isfinite(m.triad_gbs) && m.triad_gbs > 0.0);
  const auto j = m.to_json();
  EXPECT_EQ(j["threads"], 2);
  EXPECT_DOUBLE_EQ(j["array_mib"].get<double>(), 1.0);
}

TEST(MemoryBandwidth, DefaultArraysAreBetween64And256MiB) {
  const int64_t bytes = default_stream_array_bytes();
  EXPECT_GE(bytes, int64_t{64} << 20);
  EXPECT_LE(bytes, int64_t{256} << 20);
}

TEST(MemoryBandwidth, RejectsBadArguments) {
  EXPECT_THROW(measure_memory_bandwidth(0, 1 << 20, 1), Error);
  EXPECT_THROW(measure_memory_bandwidth(1, 1 << 20, 0), Error);
  EXPECT_THROW(measure_memory_bandwidth(4, 16, 1), Error);  // 2 doubles for 4 threads
}

}  // namespace
}  // namespace tandem
