// The collectives between threads of one process: N "ranks" that share
// memory, for tests of the sharded step (under the sanitizers too) and for
// trying it without MPI. run_ranks(n, body) runs body(communicator) on n
// threads and rethrows the first error any of them raised.
#pragma once

#include <barrier>
#include <functional>
#include <memory>
#include <vector>

#include "tandem/core/communicator.h"

namespace tandem {

class ThreadGroup;

class ThreadCommunicator final : public Communicator {
 public:
  ThreadCommunicator(std::shared_ptr<ThreadGroup> group, int rank);
  int rank() const override { return rank_; }
  int size() const override;
  void allgather(const void* mine, size_t bytes, void* out, TrafficKind kind) override;
  void allgatherv(const void* mine, void* out, const std::vector<size_t>& bytes,
                  TrafficKind kind) override;
  void alltoallv(const void* send, const std::vector<size_t>& send_bytes, void* recv,
                 const std::vector<size_t>& recv_bytes, TrafficKind kind) override;
  void broadcast(void* data, size_t bytes, int root, TrafficKind kind) override;
  void barrier() override;

 private:
  std::shared_ptr<ThreadGroup> group_;
  int rank_;
};

// Runs body on `ranks` threads, each with its own communicator of one group.
// If a rank throws, the group is broken (the others' collectives throw too)
// and the first error is rethrown here.
void run_ranks(int ranks, const std::function<void(Communicator&)>& body);

}  // namespace tandem
