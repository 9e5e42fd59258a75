#include "tandem/core/communicator.h"

#include <chrono>
#include <cstring>

#include "tandem/core/error.h"

namespace tandem {

std::string to_string(TrafficKind k) {
  switch (k) {
    case TrafficKind::kLookup: return "lookup";
    case TrafficKind::kRowGradient: return "row_gradient";
    case TrafficKind::kDenseReduce: return "dense_allreduce";
    case TrafficKind::kSoftmaxGather: return "softmax_allgather";
    case TrafficKind::kBatchReduce: return "batch_gradient_reduce";
    case TrafficKind::kControl: return "control";
  }
  return "?";
}

double TrafficCounters::total_bytes() const {
  double s = 0.0;
  for (double b : bytes) s += b;
  return s;
}

double TrafficCounters::total_seconds() const {
  double s = 0.0;
  for (double b : seconds) s += b;
  return s;
}

void Communicator::count(TrafficKind kind, double bytes, double seconds) {
  const auto k = static_cast<size_t>(kind);
  traffic_.bytes[k] += bytes;
  traffic_.seconds[k] += seconds;
  traffic_.calls[k] += 1;
}

std::vector<size_t> Communicator::exchange_sizes(const std::vector<size_t>& send, TrafficKind kind) {
  const int n = size();
  TANDEM_CHECK(static_cast<int>(send.size()) == n,
               "exchange_sizes: " << send.size() << " sizes for " << n << " ranks");
  std::vector<uint64_t> mine(send.begin(), send.end());
  std::vector<uint64_t> all(static_cast<size_t>(n) * static_cast<size_t>(n));
  allgather(mine.data(), mine.size() * sizeof(uint64_t), all.data(), kind);
  std::vector<size_t> recv(static_cast<size_t>(n));
  for (int k = 0; k < n; ++k)
    recv[static_cast<size_t>(k)] = static_cast<size_t>(all[static_cast<size_t>(k * n + rank())]);
  return recv;
}

std::vector<int64_t> Communicator::allgather_value(int64_t mine, TrafficKind kind) {
  std::vector<int64_t> all(static_cast<size_t>(size()));
  allgather(&mine, sizeof(mine), all.data(), kind);
  return all;
}

void Communicator::reduce_scatter_rows(float* data, int64_t width,
                                       const std::vector<int64_t>& part_begin, TrafficKind kind) {
  const int n = size();
  TANDEM_CHECK(static_cast<int>(part_begin.size()) == n + 1,
               "reduce_scatter_rows: " << part_begin.size() << " part bounds for " << n << " ranks");
  const auto row_bytes = static_cast<size_t>(width) * sizeof(float);
  // My partial of every part goes to its owner: the parts are contiguous
  // and in rank order, so the send buffer is `data` itself.
  const int64_t first = part_begin[0];
  std::vector<size_t> send(static_cast<size_t>(n));
  for (int k = 0; k < n; ++k)
    send[static_cast<size_t>(k)] =
        static_cast<size_t>(part_begin[static_cast<size_t>(k) + 1] - part_begin[static_cast<size_t>(k)]) * row_bytes;
  const int me = rank();
  const int64_t my_rows = part_begin[static_cast<size_t>(me) + 1] - part_begin[static_cast<size_t>(me)];
  const size_t my_bytes = static_cast<size_t>(my_rows) * row_bytes;
  std::vector<size_t> recv(static_cast<size_t>(n), my_bytes);
  scratch_.resize(my_bytes * static_cast<size_t>(n));
  alltoallv(data + first * width, send, scratch_.data(), recv, kind);
  // Sum in rank order: rank 0's partial, plus rank 1's, ...
  float* out = data + part_begin[static_cast<size_t>(me)] * width;
  const int64_t count = my_rows * width;
  const auto* parts = reinterpret_cast<const float*>(scratch_.data());
  if (count == 0) return;
  std::memcpy(out, parts, static_cast<size_t>(count) * sizeof(float));
  for (int k = 1; k < n; ++k) {
    const float* p = parts + static_cast<int64_t>(k) * count;
    for (int64_t i = 0; i < count; ++i) out[i] += p[i];
  }
}

template <typename T>
void Communicator::ordered_sum_impl(T* data, int64_t n, TrafficKind kind) {
  const int ranks = size();
  if (ranks == 1 || n == 0) return;
  // Chunk k of the elements is summed on rank k, then every chunk is gathered.
  std::vector<int64_t> bounds(static_cast<size_t>(ranks) + 1);
  for (int k = 0; k <= ranks; ++k) bounds[static_cast<size_t>(k)] = n * k / ranks;
  const int me = rank();
  std::vector<size_t> send(static_cast<size_t>(ranks));
  for (int k = 0; k < ranks; ++k)
    send[static_cast<size_t>(k)] =
        static_cast<size_t>(bounds[static_cast<size_t>(k) + 1] - bounds[static_cast<size_t>(k)]) * sizeof(T);
  const size_t mine = send[static_cast<size_t>(me)];
  std::vector<size_t> recv(static_cast<size_t>(ranks), mine);
  std::vector<T> parts(mine / sizeof(T) * static_cast<size_t>(ranks));
  alltoallv(data, send, parts.data(), recv, kind);
  const int64_t count = static_cast<int64_t>(mine / sizeof(T));
  T* out = data + bounds[static_cast<size_t>(me)];
  for (int64_t i = 0; i < count; ++i) out[i] = parts[static_cast<size_t>(i)];
  for (int k = 1; k < ranks; ++k) {
    const T* p = parts.data() + static_cast<int64_t>(k) * count;
    for (int64_t i = 0; i < count; ++i) out[i] += p[i];
  }
  std::vector<T> mine_copy(out, out + count);
  allgatherv(mine_copy.data(), data, send, kind);
}

void Communicator::ordered_sum(float* data, int64_t n, TrafficKind kind) {
  ordered_sum_impl(data, n, kind);
}

void Communicator::ordered_sum(double* data, int64_t n, TrafficKind kind) {
  ordered_sum_impl(data, n, kind);
}

void SoloCommunicator::allgather(const void* mine, size_t bytes, void* out, TrafficKind) {
  if (bytes > 0 && out != mine) std::memmove(out, mine, bytes);
}

void SoloCommunicator::allgatherv(const void* mine, void* out, const std::vector<size_t>& bytes,
                                  TrafficKind) {
  if (!bytes.empty() && bytes[0] > 0 && out != mine) std::memmove(out, mine, bytes[0]);
}

void SoloCommunicator::alltoallv(const void* send, const std::vector<size_t>& send_bytes, void* recv,
                                 const std::vector<size_t>&, TrafficKind) {
  if (!send_bytes.empty() && send_bytes[0] > 0 && recv != send) std::memmove(recv, send, send_bytes[0]);
}

}  // namespace tandem
