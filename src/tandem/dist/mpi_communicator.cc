#include "tandem/dist/mpi_communicator.h"

#include <mpi.h>

#include <chrono>
#include <climits>
#include <cstdlib>

#include "tandem/core/error.h"

namespace tandem {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int to_int(size_t bytes, const char* what) {
  TANDEM_CHECK(bytes <= static_cast<size_t>(INT_MAX),
               "MPI " << what << ": a message of " << bytes << " bytes exceeds MPI's int counts");
  return static_cast<int>(bytes);
}

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  TANDEM_THROW("MPI " << what << " failed: " << std::string(text, static_cast<size_t>(len)));
}

// Counts and displacements in MPI's ints from byte sizes.
struct Layout {
  std::vector<int> counts, displs;
  size_t total = 0;
  Layout(const std::vector<size_t>& bytes, const char* what) {
    counts.reserve(bytes.size());
    displs.reserve(bytes.size());
    for (size_t b : bytes) {
      counts.push_back(to_int(b, what));
      displs.push_back(to_int(total, what));
      total += b;
    }
  }
};

int g_instances = 0;

}  // namespace

bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"})
    if (std::getenv(v) != nullptr) return true;
  return false;
}

MpiCommunicator::MpiCommunicator() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    // Only the main thread calls MPI; the step's worker threads never do.
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "init");
  }
  ++g_instances;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  // Errors come back as return codes (turned into tandem::Error) rather than
  // aborting inside the library.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

MpiCommunicator::~MpiCommunicator() {
  if (--g_instances == 0) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }
}

void MpiCommunicator::abort_job(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

void MpiCommunicator::allgather(const void* mine, size_t bytes, void* out, TrafficKind kind) {
  const auto t = Clock::now();
  check(MPI_Allgather(mine, to_int(bytes, "allgather"), MPI_BYTE, out, to_int(bytes, "allgather"), MPI_BYTE,
                      MPI_COMM_WORLD),
        "allgather");
  count(kind, static_cast<double>(bytes) * (size_ - 1), since(t));
}

void MpiCommunicator::allgatherv(const void* mine, void* out, const std::vector<size_t>& bytes,
                                 TrafficKind kind) {
  const auto t = Clock::now();
  const Layout l(bytes, "allgatherv");
  const size_t my = bytes[static_cast<size_t>(rank_)];
  check(MPI_Allgatherv(mine, to_int(my, "allgatherv"), MPI_BYTE, out, l.counts.data(), l.displs.data(),
                       MPI_BYTE, MPI_COMM_WORLD),
        "allgatherv");
  count(kind, static_cast<double>(my) * (size_ - 1), since(t));
}

void MpiCommunicator::alltoallv(const void* send, const std::vector<size_t>& send_bytes, void* recv,
                                const std::vector<size_t>& recv_bytes, TrafficKind kind) {
  const auto t = Clock::now();
  const Layout s(send_bytes, "alltoallv"), r(recv_bytes, "alltoallv");
  check(MPI_Alltoallv(send, s.counts.data(), s.displs.data(), MPI_BYTE, recv, r.counts.data(),
                      r.displs.data(), MPI_BYTE, MPI_COMM_WORLD),
        "alltoallv");
  count(kind, static_cast<double>(s.total - send_bytes[static_cast<size_t>(rank_)]), since(t));
}

void MpiCommunicator::broadcast(void* data, size_t bytes, int root, TrafficKind kind) {
  const auto t = Clock::now();
  check(MPI_Bcast(data, to_int(bytes, "broadcast"), MPI_BYTE, root, MPI_COMM_WORLD), "broadcast");
  count(kind, rank_ == root ? static_cast<double>(bytes) * (size_ - 1) : 0.0, since(t));
}

void MpiCommunicator::barrier() { check(MPI_Barrier(MPI_COMM_WORLD), "barrier"); }

}  // namespace tandem
