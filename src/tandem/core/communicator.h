// The collectives a job of several processes (ranks) trains with, as the
// model and trainer see them: no MPI here. dist/mpi_communicator.h runs them
// on Open MPI (a job started with mpirun), dist/thread_communicator.h on
// threads of one process (tests, and trying the sharded step without MPI).
//
// Every call is collective: all ranks make it, in the same order. Buffers are
// raw bytes; blocks are in rank order. Each call counts what this rank sent,
// by kind, so that the bytes moved per step can be checked against a formula
// (docs/distributed.md).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tandem {

// What a message carries, for the byte counters.
enum class TrafficKind : int {
  kLookup = 0,       // embedding rows asked for and sent back (alltoallv)
  kRowGradient,      // per-example row gradients sent to the rows' owners (alltoallv)
  kDenseReduce,      // dense parameters' gradients (ordered allreduce)
  kSoftmaxGather,    // the global batch's item vectors and ids (allgather)
  kBatchReduce,      // partial item-vector gradients back to their examples' ranks
  kControl,          // counts, losses, checkpoints' handshakes, the final model
};
constexpr int kTrafficKinds = 6;
std::string to_string(TrafficKind k);

struct TrafficCounters {
  std::array<double, kTrafficKinds> bytes{};     // sent by this rank
  std::array<double, kTrafficKinds> seconds{};   // wall time in the calls
  std::array<int64_t, kTrafficKinds> calls{};
  double total_bytes() const;
  double total_seconds() const;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;

  // out [size() * bytes] = every rank's `bytes` bytes of `mine`, in rank order.
  virtual void allgather(const void* mine, size_t bytes, void* out, TrafficKind kind) = 0;
  // out = every rank's block in rank order; rank k's is bytes[k] long.
  virtual void allgatherv(const void* mine, void* out, const std::vector<size_t>& bytes,
                          TrafficKind kind) = 0;
  // Sends send_bytes[k] bytes (blocks back to back in rank order) to rank k
  // and receives recv_bytes[k] from rank k (back to back in rank order).
  // recv_bytes must be what the senders send (exchange_sizes gives it).
  virtual void alltoallv(const void* send, const std::vector<size_t>& send_bytes, void* recv,
                         const std::vector<size_t>& recv_bytes, TrafficKind kind) = 0;
  // Root's `bytes` bytes into every rank's `data`.
  virtual void broadcast(void* data, size_t bytes, int root, TrafficKind kind) = 0;
  virtual void barrier() = 0;

  const TrafficCounters& traffic() const { return traffic_; }
  void reset_traffic() { traffic_ = {}; }

  // ---- built on the calls above ------------------------------------------
  // What every rank sends to this one: recv[k] = rank k's send[rank()].
  std::vector<size_t> exchange_sizes(const std::vector<size_t>& send, TrafficKind kind);
  // Every rank's value, in rank order.
  std::vector<int64_t> allgather_value(int64_t mine, TrafficKind kind);
  // data[0, n) summed over the ranks, the same on every rank and in a fixed
  // order (rank 0's + rank 1's + ...), whatever the transport: each rank sums
  // one chunk (reduce-scatter by alltoallv), then the chunks are gathered.
  void ordered_sum(float* data, int64_t n, TrafficKind kind);
  void ordered_sum(double* data, int64_t n, TrafficKind kind);
  // The rows of `data` ([rows, width] floats, the same layout on every rank,
  // a partial sum on each) summed over the ranks in rank order, but only
  // rank k's part [part_begin[k], part_begin[k + 1]) arrives, at its place on
  // rank k; other rows are left as they were.
  void reduce_scatter_rows(float* data, int64_t width, const std::vector<int64_t>& part_begin,
                           TrafficKind kind);

 protected:
  void count(TrafficKind kind, double bytes, double seconds);

 private:
  template <typename T>
  void ordered_sum_impl(T* data, int64_t n, TrafficKind kind);
  TrafficCounters traffic_;
  std::vector<char> scratch_;
};

// The one-rank communicator: every collective is a copy.
class SoloCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allgather(const void* mine, size_t bytes, void* out, TrafficKind kind) override;
  void allgatherv(const void* mine, void* out, const std::vector<size_t>& bytes,
                  TrafficKind kind) override;
  void alltoallv(const void* send, const std::vector<size_t>& send_bytes, void* recv,
                 const std::vector<size_t>& recv_bytes, TrafficKind kind) override;
  void broadcast(void*, size_t, int, TrafficKind) override {}
  void barrier() override {}
};

}  // namespace tandem
