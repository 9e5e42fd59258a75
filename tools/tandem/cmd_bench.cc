// tandem bench: training speed against the machine's sgemm rate, memory,
// evaluation throughput and synthetic scaling, measured in one run.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>
#include <iostream>

#include "commands.h"
#include "tandem/bench/bench_suite.h"
#include "tandem/core/error.h"
#include "tandem/data/data_dir.h"
#include "tandem/model/step_profile.h"

namespace tandem::cli {

namespace {

// PyTorch reference training seconds by "preset/model", from --reference.
std::map<std::string, double> load_reference(const std::string& path) {
  std::map<std::string, double> ref;
  if (path.empty()) return ref;
  std::ifstream in(path);
  TANDEM_CHECK(in, "bench: cannot read reference file " << path);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    try {
      const auto j = nlohmann::json::parse(line);
      ref[j.at("preset").get<std::string>() + "/" + j.at("model").get<std::string>()] =
          j.at("train_seconds").get<double>();
    } catch (const nlohmann::json::exception& e) {
      TANDEM_THROW(path << ":" << n << ": not a reference result: " << e.what());
    }
  }
  return ref;
}

double number(const nlohmann::json& j) { return j.is_number() ? j.get<double>() : std::nan(""); }

// A step profile (StepProfile::to_json, with "memory_traffic") in three
// lines: ms per step of each phase that took any time, the serial fraction
// and Amdahl's bound, the estimated bytes per step against the bandwidth.
void print_profile(const nlohmann::json& p, const char* indent) {
  const double steps = std::max(1.0, number(p["steps"]));
  std::printf("%sms/step:", indent);
  // In the step's order (phase_name), each task's share after the tasks.
  std::vector<std::string> names;
  for (int i = 0; i < static_cast<int>(StepPhase::kCount); ++i) names.push_back(phase_name(static_cast<StepPhase>(i)));
  names.push_back("other");
  for (const auto& name : names) {
    if (!p["phase_seconds"].contains(name)) continue;
    const double ms = 1e3 * number(p["phase_seconds"][name]) / steps;
    if (ms < 0.005) continue;
    std::printf(" %s %.2f", name.c_str(), ms);
    if (name != "tasks" || !p.contains("task_seconds")) continue;
    std::string parts;
    for (const auto& [task, seconds] : p["task_seconds"].items()) {
      const double task_ms = 1e3 * number(seconds) / steps;
      if (task_ms < 0.005) continue;
      char part[64];
      std::snprintf(part, sizeof part, "%s%s %.2f", parts.empty() ? "" : ", ", task.c_str(), task_ms);
      parts += part;
    }
    if (!parts.empty()) std::printf(" (%s)", parts.c_str());
  }
  std::printf(" | step %.2f\n", 1e3 * number(p["step_seconds"]) / steps);
  if (number(p["threads"]) > 1) {
    std::printf("%sserial fraction %.3f; Amdahl bound %.2fx at 2, %.2fx at 8, %.2fx at 16 threads\n", indent,
                number(p["serial_fraction"]), number(p["amdahl_speedup_at"]["2"]),
                number(p["amdahl_speedup_at"]["8"]), number(p["amdahl_speedup_at"]["16"]));
  } else {
    std::printf("%sserial fraction 1 (one thread)\n", indent);
  }
  if (!p.contains("memory_traffic")) return;
  const auto& t = p["memory_traffic"];
  const auto& b = t["bytes_per_step"];
  std::printf("%straffic %.2f MB/step (sparse %.2f, dense %.2f, softmax %.2f, activations %.2f): %.2f GB/s",
              indent, number(b["total"]) / 1e6,
              (number(b["gather"]) + number(b["scatter"]) + number(b["sparse_update"])) / 1e6,
              (number(b["dense_update"]) + number(b["reduce"])) / 1e6, number(b["softmax"]) / 1e6,
              number(b["activations"]) / 1e6, number(t["achieved_gbs"]));
  if (t.contains("fraction_of_bandwidth"))
    std::printf(" = %.1f%% of %.1f GB/s", 100.0 * number(t["fraction_of_bandwidth"]), number(t["bandwidth_gbs"]));
  std::printf("%s\n", t["touched_rows"] == "measured" ? "" : " (rows: upper bound)");
}

void print_eval_phases(const nlohmann::json& p, const char* indent) {
  std::printf("%sevaluation phases: towers %.1f ms, scoring %.1f ms, ranking %.1f ms, metrics %.1f ms\n", indent,
              1e3 * number(p["towers"]), 1e3 * number(p["scoring"]), 1e3 * number(p["ranking"]),
              1e3 * number(p["metrics"]));
}

void print_row(const nlohmann::json& j, const std::map<std::string, double>& ref) {
  const std::string kind = j["kind"];
  if (kind == "softmax_precision") {
    std::printf("Softmax step, batch %lld, d %lld, %d threads: %.1f GFLOP of GEMMs; float32 %.3f s "
                "(%.1f GFLOP/s; sgemm at these shapes %.1f)",
                static_cast<long long>(j["batch"].get<int64_t>()), static_cast<long long>(j["dim"].get<int64_t>()),
                j["threads"].get<int>(), j["gemm_gflop_per_step"].get<double>(), j["float32_seconds"].get<double>(),
                j["float32_gemm_gflops_achieved"].get<double>(), j["sgemm_gflops_at_shapes"].get<double>());
    if (j["bf16_available"].get<bool>()) {
      std::printf("; bfloat16 %.3f s (%.1f GFLOP/s; sbgemm %.1f): %.2fx\n", j["bfloat16_seconds"].get<double>(),
                  j["bfloat16_gemm_gflops_achieved"].get<double>(), j["sbgemm_gflops_at_shapes"].get<double>(),
                  j["speedup"].get<double>());
    } else {
      std::printf("; bfloat16: the loaded OpenBLAS has no cblas_sbgemm\n");
    }
    return;
  }
  if (kind == "machine") {
    std::printf("Machine: OpenBLAS kernels %s, %d threads; sgemm 2048^3: %.1f GFLOP/s (all threads), "
                "%.1f GFLOP/s (one thread)\n\n",
                j["blas_core"].get<std::string>().c_str(), j["threads"].get<int>(),
                j["sgemm_2048_gflops_all_threads"].get<double>(),
                j["sgemm_2048_gflops_one_thread"].get<double>());
    const auto& all = j["memory_bandwidth_all_threads"];
    const auto& one = j["memory_bandwidth_one_thread"];
    std::printf("Memory bandwidth (3 arrays of %.0f MiB, median of %d passes): triad %.1f GB/s, copy %.1f GB/s "
                "(all threads); triad %.1f GB/s, copy %.1f GB/s (one thread)\n\n",
                number(all["array_mib"]), all["passes"].get<int>(), number(all["triad_gbs"]),
                number(all["copy_gbs"]), number(one["triad_gbs"]), number(one["copy_gbs"]));
    std::printf("GFLOP/ep: the model's FLOPs per epoch from its shapes (full batch x batch scores);\n"
                "done/ep: FLOPs performed (retrieval over distinct users x items); GFLOP/s and frac\n"
                "use the performed FLOPs; sgemm@sh: sgemm GFLOP/s at the GEMM shapes training issues.\n");
    std::printf("%-8s %-9s %7s %9s %10s %9s %8s %9s %9s %6s %8s%s\n", "preset", "model", "train s",
                "epoch s", "examples/s", "GFLOP/ep", "done/ep", "GFLOP/s", "sgemm@sh", "frac", "peak MB",
                ref.empty() ? "" : "  PyTorch s  speed-up");
  } else if (kind == "train") {
    std::printf("%-8s %-9s %7.2f %9.3f %10.0f %9.1f %8.1f %9.1f %9.1f %5.0f%% %8.0f",
                j["preset"].get<std::string>().c_str(), j["model"].get<std::string>().c_str(),
                j["train_seconds_median"].get<double>(), j["epoch_seconds_median"].get<double>(),
                j["examples_per_second"].get<double>(), j["gflop_per_epoch"].get<double>(),
                j["performed_gflop_per_epoch"].get<double>(),
                j["achieved_gflops"].get<double>(), j["sgemm_gflops_at_shapes"].get<double>(),
                100.0 * j["fraction_of_sgemm"].get<double>(), j["peak_rss_mb"].get<double>());
    const auto it = ref.find(j["preset"].get<std::string>() + "/" + j["model"].get<std::string>());
    if (it != ref.end()) {
      std::printf("  %9.2f  %7.1fx", it->second, it->second / j["train_seconds_median"].get<double>());
    }
    std::printf("\n");
    if (j.contains("profile")) print_profile(j["profile"], "    ");
    if (j.contains("eval_phase_seconds")) print_eval_phases(j["eval_phase_seconds"], "    ");
  } else if (kind == "softmax_memory") {
    std::printf("\nIn-batch softmax at batch %lld, dim %lld (one forward+backward, own process):\n"
                "  full-matrix reference: peak %.0f MB, %.3f s\n"
                "  blocked (256 rows):    peak %.0f MB, %.3f s   (inputs alone: %.0f MB; |loss diff| %.2g)\n",
                static_cast<long long>(j["batch"].get<int64_t>()),
                static_cast<long long>(j["dim"].get<int64_t>()),
                j["reference_peak_rss_mb"].get<double>(), j["reference_seconds"].get<double>(),
                j["blocked_peak_rss_mb"].get<double>(), j["blocked_seconds"].get<double>(),
                j["baseline_rss_mb"].get<double>(), j["loss_difference"].get<double>());
  } else if (kind == "evaluation") {
    std::printf("\nFull-catalogue evaluation (%lld items, dim %lld, %lld queries, %d threads):\n"
                "  factorized top-K ranks: %.0f queries/s; top-10 with heaps: %.0f queries/s\n"
                "  per-user ranks of the same positives (%lld users, seen items excluded): %.1f ms\n",
                static_cast<long long>(j["catalogue"].get<int64_t>()),
                static_cast<long long>(j["dim"].get<int64_t>()),
                static_cast<long long>(j["queries"].get<int64_t>()), j["threads"].get<int>(),
                j["factorized_topk_queries_per_second"].get<double>(),
                j["top10_queries_per_second"].get<double>(),
                static_cast<long long>(j["ranking_users"].get<int64_t>()),
                j["user_ranking_seconds"].get<double>() * 1e3);
    if (j.contains("eval_phase_seconds")) print_eval_phases(j["eval_phase_seconds"], "  ");
  } else if (kind == "scaling") {
    std::printf("scaling: %lld interactions, %lld users, %lld items, %d threads: epoch %.2f s (%.0f examples/s), "
                "resident while training %.0f MB (tables+accumulators %.0f MB, examples %.0f MB), "
                "process peak %.0f MB (the raw generated log, %.0f MB, is freed before training)\n",
                static_cast<long long>(j["interactions"].get<int64_t>()),
                static_cast<long long>(j["users"].get<int64_t>()),
                static_cast<long long>(j["items"].get<int64_t>()), j["threads"].get<int>(),
                j["epoch_seconds"].get<double>(),
                j["examples_per_second"].get<double>(), j["rss_after_epoch_mb"].get<double>(),
                j["tables_and_accumulators_mb"].get<double>(), j["examples_mb"].get<double>(),
                j["peak_rss_mb"].get<double>(), j["ratings_mb"].get<double>());
    if (j.contains("profile")) print_profile(j["profile"], "    ");
  }
  std::fflush(stdout);
}

}  // namespace

Action add_bench(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  auto data = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto only = std::make_shared<std::vector<std::string>>();
  auto reference = std::make_shared<std::string>();
  app.add_option("--data", *data, "MovieLens-100K directory (as for compare)");
  app.add_option("--preset", o->presets, "Presets to time (default: kerasrs tfrs)")
      ->check(CLI::IsMember({"kerasrs", "tfrs"}));
  app.add_option("--model", o->variants, "Variants to time (default: rating retrieval joint)")
      ->check(CLI::IsMember({"rating", "retrieval", "joint"}));
  app.add_option("--repeats", o->repeats, "Training runs per variant, each in its own process")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  app.add_option("--threads", o->threads, "Threads (default: all cores)");
  app.add_option("--parallelism", o->parallelism, "batch or blas")
      ->check(CLI::IsMember({"batch", "blas"}))
      ->capture_default_str();
  auto full = std::make_shared<bool>(false);
  app.add_flag("--full-score-matrix", *full, "Time the full batch x batch retrieval kernel");
  app.add_option("--only", *only, "Run only these parts: train, softmax, eval, scaling, precision (float32 vs "
                 "bfloat16 softmax GEMMs; run only when named)");
  app.add_option("--scaling", o->scaling,
                 "Synthetic scaling runs as interactions:users:items, e.g. 1000000:100000:100000");
  app.add_option("--scaling-batch", o->scaling_batch, "Batch size of the scaling runs")
      ->capture_default_str();
  app.add_option("--scaling-threads", o->scaling_threads,
                 "Thread counts to repeat each scaling run at, e.g. 1 2 (default: --threads)")
      ->check(CLI::Range(1, 1024));
  app.add_option("--reference", *reference,
                 "JSON lines from bench/pytorch_reference.py: adds PyTorch time and speed-up");
  app.add_flag("--json", *json, "One JSON object per measurement");
  return [o, data, json, only, reference, full] {
    o->distinct_rows = !*full;
    const auto ref = load_reference(*reference);
    auto wants = [&](const char* part) {
      return only->empty() || std::find(only->begin(), only->end(), part) != only->end();
    };
    o->training = wants("train");
    o->softmax_memory = wants("softmax");
    o->softmax_precision = std::find(only->begin(), only->end(), "precision") != only->end();
    o->evaluation = wants("eval");
    if (!wants("scaling")) o->scaling.clear();
    if (o->training) o->data_dir = std::filesystem::absolute(resolve_data_dir(*data)).string();
    run_bench(*o, [&](const nlohmann::json& row) {
      if (*json) {
        nlohmann::json out = row;
        const auto it = row["kind"] == "train"
                            ? ref.find(row["preset"].get<std::string>() + "/" +
                                       row["model"].get<std::string>())
                            : ref.end();
        if (it != ref.end()) {
          out["pytorch_train_seconds"] = it->second;
          out["speedup_vs_pytorch"] = it->second / row["train_seconds_median"].get<double>();
        }
        std::cout << out.dump() << std::endl;
      } else {
        print_row(row, ref);
      }
    });
    return 0;
  };
}

}  // namespace tandem::cli
