#include "tandem/bench/benchmark.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "tandem/core/blas.h"
#include "tandem/core/error.h"
#include "tandem/core/thread_pool.h"

namespace tandem {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<std::vector<GemmCall>> step_gemms(const ModelShape& shape, int64_t batch,
                                              const TaskWeights& weights, int workers,
                                              ScoreShape scores, int64_t block_rows) {
  std::vector<std::vector<GemmCall>> out(static_cast<size_t>(workers));
  const int64_t d = shape.dim;
  const int64_t score_rows = scores.rows > 0 ? scores.rows : batch;
  const int64_t score_cols = scores.cols > 0 ? scores.cols : batch;
  for (int w = 0; w < workers; ++w) {
    const Range r = split_range(batch, workers, w);
    auto& calls = out[static_cast<size_t>(w)];
    if (weights.ranking != 0.0f && r.size() > 0) {
      int64_t in = 2 * d;
      std::vector<int64_t> widths = shape.hidden;
      widths.push_back(1);
      for (int64_t units : widths) {
        calls.push_back({r.size(), units, in, false, false});  // forward
        calls.push_back({in, units, r.size(), true, false});   // dW = x^T dy
        calls.push_back({r.size(), in, units, false, true});   // dx = dy W^T
        in = units;
      }
    }
    if (weights.retrieval != 0.0f) {
      const Range sr = split_range(score_rows, workers, w);
      for (int64_t r0 = sr.begin; r0 < sr.end; r0 += block_rows) {
        const int64_t rows = std::min(block_rows, sr.end - r0);
        calls.push_back({rows, score_cols, d, false, true});  // S = Q C^T
        calls.push_back({rows, d, score_cols, false, false});  // dQ = G C
        calls.push_back({score_cols, d, rows, true, false});   // dC += G^T Q
      }
    }
  }
  return out;
}

double step_flops(const ModelShape& shape, int64_t batch, const TaskWeights& weights,
                  ScoreShape scores) {
  double flops = 0.0;
  for (const auto& calls : step_gemms(shape, batch, weights, 1, scores))
    for (const auto& c : calls) flops += c.flops();
  const double n = static_cast<double>(batch);
  const double rows = scores.rows > 0 ? static_cast<double>(scores.rows) : n;
  const double cols = scores.cols > 0 ? static_cast<double>(scores.cols) : n;
  if (weights.retrieval != 0.0f) flops += 5.0 * rows * cols;
  if (weights.ranking != 0.0f) {
    double activations = 1.0;
    for (int64_t h : shape.hidden) activations += static_cast<double>(h);
    flops += 3.0 * n * activations;
  }
  return flops;
}

double measure_gemm_rate(const std::vector<std::vector<GemmCall>>& calls, int repeats,
                         blas::GemmPrecision precision) {
  const int workers = static_cast<int>(calls.size());
  double flops = 0.0;
  std::vector<std::vector<float>> a(calls.size()), b(calls.size()), c(calls.size());
  for (size_t w = 0; w < calls.size(); ++w) {
    size_t sa = 0, sb = 0, sc = 0;
    for (const auto& g : calls[w]) {
      flops += g.flops();
      sa = std::max(sa, static_cast<size_t>(g.m * g.k));
      sb = std::max(sb, static_cast<size_t>(g.k * g.n));
      sc = std::max(sc, static_cast<size_t>(g.m * g.n));
    }
    a[w].assign(sa, 0.01f);
    b[w].assign(sb, 0.02f);
    c[w].assign(sc, 0.0f);
  }
  if (flops == 0.0) return 0.0;
  const bool bf16 = precision == blas::GemmPrecision::kBfloat16;
  std::vector<std::vector<blas::bfloat16>> ah(calls.size()), bh(calls.size());
  for (size_t w = 0; bf16 && w < calls.size(); ++w) {
    ah[w].resize(a[w].size());
    bh[w].resize(b[w].size());
    blas::to_bfloat16(a[w].data(), static_cast<int64_t>(a[w].size()), ah[w].data());
    blas::to_bfloat16(b[w].data(), static_cast<int64_t>(b[w].size()), bh[w].data());
  }
  const int saved = blas::threads();
  blas::set_threads(1);
  ThreadPool pool(workers);
  auto one_round = [&](int w) {
    for (const auto& g : calls[static_cast<size_t>(w)]) {
      if (bf16) {
        blas::gemm_bf16(g.trans_a, g.trans_b, g.m, g.n, g.k, 1.0f, ah[w].data(), g.trans_a ? g.m : g.k,
                        bh[w].data(), g.trans_b ? g.k : g.n, 0.0f, c[w].data(), g.n);
        continue;
      }
      blas::gemm(g.trans_a, g.trans_b, g.m, g.n, g.k, 1.0f, a[w].data(), g.trans_a ? g.m : g.k,
                 b[w].data(), g.trans_b ? g.k : g.n, 0.0f, c[w].data(), g.n);
    }
  };
  pool.run(one_round);  // warm-up
  std::vector<double> rates;
  for (int r = 0; r < repeats; ++r) {
    // Enough rounds for ~50 ms per sample.
    int rounds = 1;
    double t = 0.0;
    for (;;) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < rounds; ++i) pool.run(one_round);
      t = seconds_since(t0);
      if (t > 0.05 || rounds > 1000) break;
      rounds *= 2;
    }
    rates.push_back(flops * rounds / t / 1e9);
  }
  blas::set_threads(saved);
  return median(rates);
}

double measure_square_sgemm(int64_t n, int threads, int repeats) {
  std::vector<float> a(static_cast<size_t>(n * n), 0.01f), b(a.size(), 0.02f), c(a.size());
  const int saved = blas::threads();
  blas::set_threads(threads);
  blas::gemm(false, false, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
  std::vector<double> rates;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    blas::gemm(false, false, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    rates.push_back(2.0 * static_cast<double>(n) * n * n / seconds_since(t0) / 1e9);
  }
  blas::set_threads(saved);
  return median(rates);
}

nlohmann::json run_measured(const std::function<nlohmann::json()>& fn) {
  int fds[2];
  TANDEM_CHECK(pipe(fds) == 0, "bench: cannot create a pipe: " << std::strerror(errno));
  const pid_t pid = fork();
  TANDEM_CHECK(pid >= 0, "bench: cannot fork: " << std::strerror(errno));
  if (pid == 0) {
    close(fds[0]);
    std::string out;
    int code = 0;
    try {
      out = fn().dump();
    } catch (const std::exception& e) {
      out = nlohmann::json{{"error", e.what()}}.dump();
      code = 1;
    }
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t w = write(fds[1], out.data() + done, out.size() - done);
      if (w <= 0) break;
      done += static_cast<size_t>(w);
    }
    close(fds[1]);
    _exit(code);
  }
  close(fds[1]);
  std::string text;
  char buf[4096];
  ssize_t got;
  while ((got = read(fds[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(got));
  close(fds[0]);
  int status = 0;
  struct rusage usage {};
  wait4(pid, &status, 0, &usage);
  nlohmann::json j = text.empty() ? nlohmann::json::object() : nlohmann::json::parse(text);
  if (j.contains("error")) TANDEM_THROW("bench: measurement failed: " << j["error"].get<std::string>());
  TANDEM_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "bench: measurement process failed");
  j["peak_rss_mb"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
  return j;
}

}  // namespace tandem
