#include "tandem/core/thread_pool.h"

#include <chrono>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

#include "tandem/core/error.h"

namespace tandem {

namespace {

using Clock = std::chrono::steady_clock;

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Spins until done() or kSpinMicros have passed; true when done() held.
// The clock is read only every 64 rounds, and every 1024 rounds the thread
// yields, in case the thread it waits for needs this CPU.
template <class Done>
bool spin_until(const Done& done) {
  const auto deadline = Clock::now() + std::chrono::microseconds(ThreadPool::kSpinMicros);
  for (uint32_t round = 1;; ++round) {
    if (done()) return true;
    cpu_relax();
    if (round % 64 == 0) {
      if (Clock::now() >= deadline) return done();
      if (round % 1024 == 0) std::this_thread::yield();
    }
  }
}

#if defined(__linux__)
bool pin_thread(std::thread& t, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(t.native_handle(), sizeof set, &set) == 0;
}
#endif

}  // namespace

std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
#endif
  if (cpus.empty()) {
    const int n = static_cast<int>(std::thread::hardware_concurrency());
    for (int c = 0; c < (n > 0 ? n : 1); ++c) cpus.push_back(c);
  }
  return cpus;
}

ThreadPool::ThreadPool(int threads, bool pin_to_cores) : size_(threads) {
  TANDEM_CHECK(threads >= 1 && threads <= 1024, "thread count must be in 1..1024, got " << threads);
  for (int w = 1; w < size_; ++w) threads_.emplace_back([this, w] { loop(w); });
#if defined(__linux__)
  if (pin_to_cores && size_ > 1) {
    const std::vector<int> cpus = allowed_cpus();
    if (static_cast<int>(cpus.size()) >= size_) {
      pinned_ = true;
      for (int w = 1; w < size_; ++w)
        pinned_ = pin_thread(threads_[static_cast<size_t>(w - 1)], cpus[static_cast<size_t>(w)]) && pinned_;
    }
  }
#else
  (void)pin_to_cores;
#endif
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    generation_.fetch_add(1, std::memory_order_release);
  }
  start_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadPool::record_error(std::exception_ptr e) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!error_) error_ = e;
}

void ThreadPool::run(const std::function<void(int)>& fn) {
  if (size_ == 1) {
    fn(0);
    return;
  }
  const auto start = Clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &fn;
    error_ = nullptr;
    pending_.store(size_ - 1, std::memory_order_relaxed);
    // Release: a worker that sees the new generation sees job_ and pending_.
    generation_.fetch_add(1, std::memory_order_release);
  }
  start_cv_.notify_all();
  std::exception_ptr mine;
  try {
    fn(0);
  } catch (...) {
    mine = std::current_exception();
  }
  const auto all_done = [this] { return pending_.load(std::memory_order_acquire) == 0; };
  if (!spin_until(all_done)) {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, all_done);
  }
  std::exception_ptr theirs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = nullptr;
    theirs = error_;
  }
  parallel_seconds_ += std::chrono::duration<double>(Clock::now() - start).count();
  if (mine) std::rethrow_exception(mine);
  if (theirs) std::rethrow_exception(theirs);
}

void ThreadPool::loop(int worker) {
  uint64_t seen = 0;
  for (;;) {
    const auto started = [&] { return generation_.load(std::memory_order_acquire) != seen; };
    if (!spin_until(started)) {
      std::unique_lock<std::mutex> lock(mu_);
      start_cv_.wait(lock, started);
    }
    const std::function<void(int)>* job;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
      seen = generation_.load(std::memory_order_relaxed);
      job = job_;
    }
    try {
      (*job)(worker);
    } catch (...) {
      record_error(std::current_exception());
    }
    // The last worker to finish wakes a caller that stopped spinning; the
    // notify is under the lock so that it cannot fall between the caller's
    // check and its wait.
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mu_);
      done_cv_.notify_one();
    }
  }
}

Range split_range(int64_t n, int parts, int i) {
  const int64_t base = n / parts, extra = n % parts;
  const int64_t begin = i * base + (i < extra ? i : extra);
  return {begin, begin + base + (i < extra ? 1 : 0)};
}

}  // namespace tandem
