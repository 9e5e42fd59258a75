#include "tandem/dist/thread_communicator.h"

#include <atomic>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include "tandem/core/error.h"

namespace tandem {

// What each rank posts for a collective: its send buffer and block sizes.
struct Posted {
  const void* send = nullptr;
  const std::vector<size_t>* sizes = nullptr;  // per destination (alltoallv) or per rank
  size_t bytes = 0;
};

class ThreadGroup {
 public:
  explicit ThreadGroup(int ranks) : ranks_(ranks), posted_(static_cast<size_t>(ranks)), sync_(ranks) {}
  int ranks() const { return ranks_; }
  Posted& posted(int r) { return posted_[static_cast<size_t>(r)]; }
  // Every rank arrives; throws once the group is broken.
  void arrive() {
    if (broken_.load()) TANDEM_THROW("another rank of the thread group failed");
    sync_.arrive_and_wait();
    if (broken_.load()) TANDEM_THROW("another rank of the thread group failed");
  }
  // A failed rank leaves the barrier for good, so that the others are not
  // left waiting for it, and marks the group broken.
  void leave() {
    broken_.store(true);
    sync_.arrive_and_drop();
  }

 private:
  int ranks_;
  std::vector<Posted> posted_;
  std::barrier<> sync_;
  std::atomic<bool> broken_{false};
};

ThreadCommunicator::ThreadCommunicator(std::shared_ptr<ThreadGroup> group, int rank)
    : group_(std::move(group)), rank_(rank) {}

int ThreadCommunicator::size() const { return group_->ranks(); }

void ThreadCommunicator::allgather(const void* mine, size_t bytes, void* out, TrafficKind kind) {
  std::vector<size_t> sizes(static_cast<size_t>(size()), bytes);
  allgatherv(mine, out, sizes, kind);
}

void ThreadCommunicator::allgatherv(const void* mine, void* out, const std::vector<size_t>& bytes,
                                    TrafficKind kind) {
  group_->posted(rank_) = {mine, &bytes, bytes[static_cast<size_t>(rank_)]};
  group_->arrive();
  size_t at = 0;
  for (int k = 0; k < size(); ++k) {
    const size_t b = bytes[static_cast<size_t>(k)];
    if (b > 0) std::memcpy(static_cast<char*>(out) + at, group_->posted(k).send, b);
    at += b;
  }
  group_->arrive();
  count(kind, static_cast<double>(bytes[static_cast<size_t>(rank_)]) * (size() - 1), 0.0);
}

void ThreadCommunicator::alltoallv(const void* send, const std::vector<size_t>& send_bytes, void* recv,
                                   const std::vector<size_t>& recv_bytes, TrafficKind kind) {
  group_->posted(rank_) = {send, &send_bytes, 0};
  group_->arrive();
  size_t at = 0;
  double sent = 0.0;
  for (int k = 0; k < size(); ++k) {
    const Posted& p = group_->posted(k);
    // Rank k's block for me starts after its blocks for ranks below me.
    size_t offset = 0;
    for (int j = 0; j < rank_; ++j) offset += (*p.sizes)[static_cast<size_t>(j)];
    const size_t b = (*p.sizes)[static_cast<size_t>(rank_)];
    TANDEM_CHECK(b == recv_bytes[static_cast<size_t>(k)],
                 "alltoallv: rank " << k << " sends " << b << " bytes to rank " << rank_ << ", which expects "
                                    << recv_bytes[static_cast<size_t>(k)]);
    if (b > 0) std::memcpy(static_cast<char*>(recv) + at, static_cast<const char*>(p.send) + offset, b);
    at += b;
    if (k != rank_) sent += static_cast<double>(send_bytes[static_cast<size_t>(k)]);
  }
  group_->arrive();
  count(kind, sent, 0.0);
}

void ThreadCommunicator::broadcast(void* data, size_t bytes, int root, TrafficKind kind) {
  group_->posted(rank_) = {data, nullptr, bytes};
  group_->arrive();
  if (rank_ != root && bytes > 0) std::memcpy(data, group_->posted(root).send, bytes);
  group_->arrive();
  count(kind, rank_ == root ? static_cast<double>(bytes) * (size() - 1) : 0.0, 0.0);
}

void ThreadCommunicator::barrier() { group_->arrive(); }

void run_ranks(int ranks, const std::function<void(Communicator&)>& body) {
  TANDEM_CHECK(ranks >= 1 && ranks <= 256, "run_ranks: rank count must be in 1..256, got " << ranks);
  auto group = std::make_shared<ThreadGroup>(ranks);
  std::exception_ptr first;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r) {
    threads.emplace_back([&, r] {
      ThreadCommunicator comm(group, r);
      try {
        body(comm);
      } catch (...) {
        {
          std::lock_guard<std::mutex> lock(mu);
          if (!first) first = std::current_exception();
        }
        group->leave();
      }
    });
  }
  for (auto& t : threads) t.join();
  if (first) std::rethrow_exception(first);
}

}  // namespace tandem
