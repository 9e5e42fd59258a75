// A fixed set of worker threads that run one function on every worker at
// once ("fork-join"), fastText/HugeCTR style: the work is split by the caller
// into as many contiguous parts as there are workers, so which worker does
// what never depends on timing, and results are deterministic for a fixed
// thread count.
//
// A training step forks and joins a dozen times, each region lasting tens
// of microseconds to milliseconds. Waking a thread blocked on a condition
// variable costs a system call and a scheduler round trip (5-50 us), which
// at batch 1000 is a visible share of the step. So a worker that finished a
// region spins for a short while (kSpinMicros) watching for the next one,
// and only then blocks; the caller likewise spins on the workers' completion
// before blocking. Spinning yields the CPU now and then, so that a pool with
// more threads than free cores still makes progress.
//
// Optionally the workers are pinned, worker w to the w-th CPU of the
// process's affinity mask (as MPI or taskset left it), so they stay on their
// cores and keep their caches; the calling thread (worker 0) is not pinned,
// since every thread it creates later would inherit its mask.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tandem {

// The CPUs this process may run on (sched_getaffinity), in increasing order;
// all of std::thread::hardware_concurrency() where that call is missing.
std::vector<int> allowed_cpus();

class ThreadPool {
 public:
  // How long a worker or the caller spins before blocking.
  static constexpr int kSpinMicros = 100;

  // `threads` workers in all, the calling thread being worker 0. With
  // `pin_to_cores`, workers 1.. are pinned to the allowed CPUs 1.. when there
  // are at least `threads` of them (otherwise nothing is pinned: pinning
  // more threads than CPUs would stack them).
  explicit ThreadPool(int threads, bool pin_to_cores = false);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return size_; }
  // Whether the workers were pinned (see the constructor).
  bool pinned() const { return pinned_; }
  // Runs fn(worker) for worker = 0..size()-1 concurrently; returns when all
  // are done. An exception thrown by any worker is rethrown here (the first
  // one, by worker order of arrival; the others are dropped).
  void run(const std::function<void(int worker)>& fn);
  // Wall seconds spent inside run() since construction (with more than one
  // worker): the parallel regions, from which a step's serial fraction
  // follows (StepProfile).
  double parallel_seconds() const { return parallel_seconds_; }

 private:
  void loop(int worker);
  void record_error(std::exception_ptr e);
  int size_;
  bool pinned_ = false;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  const std::function<void(int)>* job_ = nullptr;
  // Bumped (under mu_) to start a region; workers compare it with the last
  // one they ran.
  std::atomic<uint64_t> generation_{0};
  // Workers of the current region not done yet.
  std::atomic<int> pending_{0};
  bool stop_ = false;  // under mu_
  std::exception_ptr error_;  // under mu_
  double parallel_seconds_ = 0.0;
};

// The contiguous range of [0, n) that part `i` of `parts` covers (the first
// n % parts parts get one extra element).
struct Range {
  int64_t begin, end;
  int64_t size() const { return end - begin; }
};
Range split_range(int64_t n, int parts, int i);

}  // namespace tandem
