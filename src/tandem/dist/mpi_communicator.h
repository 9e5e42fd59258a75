// The collectives on Open MPI: a job started with `mpirun -np N tandem ...`
// (one process per rank, on one machine or on the hosts of a hostfile).
#pragma once

#include <memory>

#include "tandem/core/communicator.h"

namespace tandem {

// Whether this process was started by an MPI launcher (mpirun, srun with
// PMIx), judged from the environment the launcher sets. A process started
// without one runs alone and never initialises MPI.
bool launched_by_mpi();

class MpiCommunicator final : public Communicator {
 public:
  // Initialises MPI (once per process); finalised when the last one goes.
  MpiCommunicator();
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void allgather(const void* mine, size_t bytes, void* out, TrafficKind kind) override;
  void allgatherv(const void* mine, void* out, const std::vector<size_t>& bytes,
                  TrafficKind kind) override;
  void alltoallv(const void* send, const std::vector<size_t>& send_bytes, void* recv,
                 const std::vector<size_t>& recv_bytes, TrafficKind kind) override;
  void broadcast(void* data, size_t bytes, int root, TrafficKind kind) override;
  void barrier() override;

  // Ends every rank of the job (after an error on this one, so that the
  // others do not wait forever in a collective).
  [[noreturn]] static void abort_job(int code);

 private:
  int rank_ = 0, size_ = 1;
};

}  // namespace tandem
