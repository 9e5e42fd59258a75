#include "tandem/core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
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

// Thousands of back-to-back regions: the spinning hand-over must neither
// lose a region nor run one twice, and each region must see the writes of
// the one before (the caller's sums check both).
TEST(ThreadPool, BackToBackRegionsSeeEachOthersWrites) {
  for (int threads : {2, 3, 8}) {
    ThreadPool pool(threads);
    std::vector<int64_t> cell(static_cast<size_t>(threads), 0);
    for (int round = 1; round <= 5000; ++round) {
      pool.run([&](int w) { cell[static_cast<size_t>(w)] += w + 1; });
      int64_t sum = 0;
      for (int64_t c : cell) sum += c;
      ASSERT_EQ(sum, static_cast<int64_t>(round) * threads * (threads + 1) / 2) << "threads " << threads;
    }
  }
}

// Regions further apart than the spin time, and workers slower than the
// caller's spin: both sides must fall back to blocking and still wake.
TEST(ThreadPool, WakesAfterSpinningGivesUp) {
  ThreadPool pool(3);
  const auto pause = std::chrono::microseconds(ThreadPool::kSpinMicros * 20);
  for (int round = 0; round < 5; ++round) {
    std::this_thread::sleep_for(pause);  // the workers are asleep by now
    std::atomic<int> n{0};
    pool.run([&](int w) {
      if (w == 2) std::this_thread::sleep_for(pause);  // the caller blocks meanwhile
      ++n;
    });
    EXPECT_EQ(n.load(), 3);
  }
}

TEST(ThreadPool, ExceptionFromASlowWorkerStillReachesTheCaller) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.run([](int w) {
    if (w == 1) {
      std::this_thread::sleep_for(std::chrono::microseconds(ThreadPool::kSpinMicros * 10));
      throw std::runtime_error("late");
    }
  }),
               std::runtime_error);
}

TEST(ThreadPool, AllowedCpusAreDistinctAndIncreasing) {
  const std::vector<int> cpus = allowed_cpus();
  ASSERT_FALSE(cpus.empty());
  for (size_t i = 1; i < cpus.size(); ++i) EXPECT_LT(cpus[i - 1], cpus[i]);
}

// Pinning never changes what runs: the same work, the same results; it is
// applied only when there are CPUs for every worker.
TEST(ThreadPool, PinnedPoolRunsTheSameWork) {
  const int cpus = static_cast<int>(allowed_cpus().size());
  for (int threads : {2, cpus, cpus + 3}) {
    if (threads < 2) continue;
    ThreadPool pool(threads, /*pin_to_cores=*/true);
    EXPECT_EQ(pool.pinned(), threads <= cpus) << threads << " threads on " << cpus << " CPUs";
    std::vector<int> hits(static_cast<size_t>(threads), 0);
    for (int round = 0; round < 100; ++round) pool.run([&](int w) { hits[static_cast<size_t>(w)] += 1; });
    for (int h : hits) EXPECT_EQ(h, 100);
  }
  EXPECT_FALSE(ThreadPool(2).pinned());
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
