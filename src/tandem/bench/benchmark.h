// What `tandem bench` measures: training throughput against the machine's
// sgemm rate at the model's own GEMM shapes (measured in the same run),
// peak memory, evaluation throughput and scaling on synthetic data.
#pragma once

#include "tandem/core/blas.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/config/experiment_config.h"
#include "tandem/model/multitask_model.h"

namespace tandem {

// Median of timing samples (0 for none).
double median(std::vector<double> samples);
double seconds_since(std::chrono::steady_clock::time_point start);

struct GemmCall {
  int64_t m, n, k;
  bool trans_a, trans_b;
  double flops() const { return 2.0 * static_cast<double>(m) * n * k; }
};

// The GEMMs one training step issues on each worker (outer index), mirroring
// MultiTaskModel::compute_gradients: per worker a row slice of the batch
// through the rating head (forward, dW, dx per layer) and row blocks of the
// in-batch softmax (scores, dQ, dC). Zero-weight tasks issue nothing.
// The retrieval score matrix of one step: batch x batch for the full-matrix
// kernel, distinct users x distinct items for the distinct-rows kernel.
struct ScoreShape {
  int64_t rows = 0, cols = 0;  // 0 = the batch size
};

std::vector<std::vector<GemmCall>> step_gemms(const ModelShape& shape, int64_t batch,
                                              const TaskWeights& weights, int workers,
                                              ScoreShape scores = {},
                                              int64_t softmax_block_rows = 256);

// FLOPs of one step: every GEMM above plus the softmax's elementwise work
// (max, subtract, exp, sum, scale: counted as 5 per score) and the rating
// head's bias, ReLU and ReLU' (3 per activation). Gathers are excluded.
double step_flops(const ModelShape& shape, int64_t batch, const TaskWeights& weights,
                  ScoreShape scores = {});

// Runs each worker's GEMM list concurrently on `workers` threads with a
// single-threaded BLAS, `repeats` times; returns the median GFLOP/s.
// Under bfloat16 the operands are bfloat16 (blas::gemm_bf16).
double measure_gemm_rate(const std::vector<std::vector<GemmCall>>& calls, int repeats,
                         blas::GemmPrecision precision = blas::GemmPrecision::kFloat32);
// sgemm GFLOP/s on one n x n x n product using `threads` BLAS threads (median).
double measure_square_sgemm(int64_t n, int threads, int repeats);

// Runs `fn` in a forked child process; returns what it wrote (a JSON
// object) with "peak_rss_mb" (the child's peak resident memory) added.
nlohmann::json run_measured(const std::function<nlohmann::json()>& fn);

}  // namespace tandem
