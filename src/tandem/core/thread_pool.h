// A fixed set of worker threads that run one function on every worker at
// once ("fork-join"), fastText/HugeCTR style: the work is split by the caller
// into as many contiguous parts as there are workers, so which worker does
// what never depends on timing, and results are deterministic for a fixed
// thread count.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tandem {

class ThreadPool {
 public:
  // `threads` workers in all, the calling thread being worker 0.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return size_; }
  // Runs fn(worker) for worker = 0..size()-1 concurrently; returns when all
  // are done. An exception thrown by any worker is rethrown here.
  void run(const std::function<void(int worker)>& fn);
  // Wall seconds spent inside run() since construction (with more than one
  // worker): the parallel regions, from which a step's serial fraction
  // follows (StepProfile).
  double parallel_seconds() const { return parallel_seconds_; }

 private:
  void loop(int worker);
  int size_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  const std::function<void(int)>* job_ = nullptr;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
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
