// The collectives on the thread communicator, against sums done by hand.
#include <gtest/gtest.h>

#include <mutex>
#include <numeric>

#include "tandem/core/error.h"
#include "tandem/dist/thread_communicator.h"

namespace tandem {
namespace {

TEST(Communicator, OrderedSumAddsInRankOrderOnEveryRank) {
  for (int ranks : {1, 2, 3, 5}) {
    run_ranks(ranks, [&](Communicator& c) {
      // 7 values (chunks of uneven size), rank r's value i = (r + 1) * 10^i;
      // float sums whose order shows: 1e8 + 1 - 1e8 differs from 1 + 1e8 - 1e8.
      std::vector<float> v(7);
      for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((c.rank() + 1) * static_cast<int>(i + 1));
      v[0] = c.rank() == 0 ? 1e8f : c.rank() == 1 ? 1.0f : -1e8f;
      c.ordered_sum(v.data(), static_cast<int64_t>(v.size()), TrafficKind::kDenseReduce);
      for (size_t i = 1; i < v.size(); ++i)
        EXPECT_EQ(v[i], static_cast<float>((i + 1) * static_cast<size_t>(ranks * (ranks + 1) / 2)));
      float expect0 = 1e8f;
      if (ranks > 1) expect0 += 1.0f;
      for (int r = 2; r < ranks; ++r) expect0 += -1e8f;
      EXPECT_EQ(v[0], expect0);
    });
  }
}

TEST(Communicator, ReduceScatterRowsSumsEachPartOnItsRank) {
  run_ranks(3, [](Communicator& c) {
    // 5 rows of width 2, parts [0, 1), [1, 1) (empty), [1, 5).
    std::vector<float> rows(10);
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<float>(i + 100 * c.rank());
    const std::vector<int64_t> bounds = {0, 1, 1, 5};
    const std::vector<float> before = rows;
    c.reduce_scatter_rows(rows.data(), 2, bounds, TrafficKind::kBatchReduce);
    for (int64_t r = 0; r < 5; ++r) {
      const bool mine = r >= bounds[static_cast<size_t>(c.rank())] && r < bounds[static_cast<size_t>(c.rank()) + 1];
      for (int64_t j = 0; j < 2; ++j) {
        const auto i = static_cast<size_t>(r * 2 + j);
        EXPECT_EQ(rows[i], mine ? static_cast<float>(3 * (r * 2 + j) + 300) : before[i]) << r << "," << j;
      }
    }
  });
}

TEST(Communicator, AlltoallvAndAllgathervMoveTheBlocksAndCountTheBytes) {
  run_ranks(3, [](Communicator& c) {
    // Rank r sends k + 1 ints, all equal to 10 r + k, to rank k.
    std::vector<int32_t> send;
    std::vector<size_t> send_bytes;
    for (int k = 0; k < 3; ++k) {
      for (int i = 0; i <= k; ++i) send.push_back(10 * c.rank() + k);
      send_bytes.push_back(static_cast<size_t>(k + 1) * 4);
    }
    const std::vector<size_t> recv_bytes = c.exchange_sizes(send_bytes, TrafficKind::kControl);
    for (int k = 0; k < 3; ++k) EXPECT_EQ(recv_bytes[static_cast<size_t>(k)], static_cast<size_t>(c.rank() + 1) * 4);
    std::vector<int32_t> recv(static_cast<size_t>(3 * (c.rank() + 1)));
    c.reset_traffic();
    c.alltoallv(send.data(), send_bytes, recv.data(), recv_bytes, TrafficKind::kLookup);
    for (int k = 0; k < 3; ++k)
      for (int i = 0; i <= c.rank(); ++i)
        EXPECT_EQ(recv[static_cast<size_t>(k * (c.rank() + 1) + i)], 10 * k + c.rank());
    // Sent: every block but its own.
    EXPECT_EQ(c.traffic().bytes[static_cast<size_t>(TrafficKind::kLookup)], 4.0 * (6 - (c.rank() + 1)));
    std::vector<int32_t> mine(static_cast<size_t>(c.rank()), c.rank());
    std::vector<int32_t> all(3);  // 0 + 1 + 2 values
    c.allgatherv(mine.data(), all.data(), {0, 4, 8}, TrafficKind::kSoftmaxGather);
    EXPECT_EQ(all, (std::vector<int32_t>{1, 2, 2}));
  });
}

TEST(Communicator, AFailingRankEndsTheGroupWithItsError) {
  try {
    run_ranks(3, [](Communicator& c) {
      if (c.rank() == 1) TANDEM_THROW("rank 1 broke");
      int64_t x = 0;
      c.allgather_value(x, TrafficKind::kControl);  // would wait for rank 1 forever
    });
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("rank 1 broke"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tandem
