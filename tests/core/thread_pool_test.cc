#include "tandem/core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "tandem/core/error.h"

namespace tandem {
namespace {

TEST(ThreadPool, RunsEveryWorkerOncePerCall) {
  for (int threads : {1, 2, 5}) {
    ThreadPool pool(threads);
    for (int round = 0; round < 50; ++round) {
      std::vector<int> hits(static_cast<size_t>(threads), 0);
      pool.run([&](int w) { hits[static_cast<size_t>(w)] += 1; });
      for (int h : hits) EXPECT_EQ(h, 1);
    }
  }
}

TEST(ThreadPool, RethrowsAWorkersException) {
  ThreadPool pool(3);
  EXPECT_THROW(pool.run([](int w) {
    if (w == 2) throw std::runtime_error("boom");
  }),
               std::runtime_error);
  // Still usable afterwards.
  std::atomic<int> n{0};
  pool.run([&](int) { ++n; });
  EXPECT_EQ(n.load(), 3);
}

TEST(ThreadPool, RejectsBadSizes) {
  EXPECT_THROW(ThreadPool(0), Error);
  EXPECT_THROW(ThreadPool(5000), Error);
}

TEST(SplitRange, CoversContiguouslyAndEvenly) {
  for (int64_t n : {0, 1, 7, 1000, 1001}) {
    for (int parts : {1, 2, 3, 8}) {
      int64_t next = 0;
      for (int i = 0; i < parts; ++i) {
        const Range r = split_range(n, parts, i);
        EXPECT_EQ(r.begin, next);
        EXPECT_LE(r.size(), n / parts + 1);
        EXPECT_GE(r.size(), n / parts);
        next = r.end;
      }
      EXPECT_EQ(next, n);
    }
  }
}

}  // namespace
}  // namespace tandem
