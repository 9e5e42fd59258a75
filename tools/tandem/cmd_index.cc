// tandem index: saved ANN indexes. `index build` builds the HNSW graph over a
// model's catalogue, exactly as `serve --index hnsw` would at start, and
// saves it (index/hnsw_file.h) so that serve and recommend load it with
// --index-file instead of spending minutes rebuilding it. (`tandem
// index-eval`, the recall/latency measurement, stays its own command.)
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "tandem/artifact/trained_model.h"
#include "tandem/core/blas.h"
#include "tandem/core/error.h"
#include "tandem/index/item_index.h"

namespace tandem::cli {

namespace {

struct BuildArgs {
  std::string model, output;
  HnswParams hnsw;
  bool json = false;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int run_build(const BuildArgs& a) {
  // As serve and recommend do: one BLAS thread, so that the catalogue vectors
  // (and so the fingerprint the file records) are those serve computes, bit
  // for bit.
  blas::set_threads(1);
  const TrainedModel m = load_model(a.model);
  const std::vector<float> items = m.catalogue_embeddings();
  const auto n = static_cast<int64_t>(m.catalogue.size());
  const int64_t dim = m.model->task_dim();
  TANDEM_CHECK(n > 0, a.model << ": the model's catalogue is empty: no graph to build");
  auto t0 = std::chrono::steady_clock::now();
  // The same constructor serve calls: same vectors, same parameters, same
  // sequential insertion, so the same graph.
  const HnswIndex index(items.data(), n, dim, a.hnsw);
  const double build_s = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  index.save(a.output);
  const double save_s = seconds_since(t0);
  const auto bytes = static_cast<int64_t>(std::filesystem::file_size(a.output));
  if (a.json) {
    std::cout << nlohmann::json{{"model", a.model},
                                {"output", a.output},
                                {"items", n},
                                {"dim", dim},
                                {"hnsw", {{"M", a.hnsw.M}, {"ef_construction", a.hnsw.ef_construction},
                                          {"seed", a.hnsw.seed}}},
                                {"build_seconds", build_s},
                                {"save_seconds", save_s},
                                {"bytes", bytes}}
                     .dump()
              << std::endl;
  } else {
    std::printf("Built the HNSW graph over %lld items x %lld (M = %d, ef_construction = %d) in "
                "%.2f s; saved %s (%.1f MB) in %.2f s\n",
                static_cast<long long>(n), static_cast<long long>(dim), a.hnsw.M,
                a.hnsw.ef_construction, build_s, a.output.c_str(), static_cast<double>(bytes) / 1e6,
                save_s);
    std::printf("Serve it: tandem serve --model %s --index hnsw --index-file %s\n", a.model.c_str(),
                a.output.c_str());
  }
  return 0;
}

}  // namespace

Action add_index(CLI::App& app) {
  app.require_subcommand(1);
  auto a = std::make_shared<BuildArgs>();
  CLI::App* build = app.add_subcommand(
      "build", "Build a model's HNSW graph and save it for serve/recommend --index-file");
  build->add_option("--model,-m", a->model, "Model file")->required();
  build->add_option("--output,-o", a->output, "Index file to write (atomically)")->required();
  build->add_option("--hnsw-m", a->hnsw.M, "HNSW graph degree")
      ->capture_default_str()
      ->check(CLI::Range(2, 1024));
  build->add_option("--hnsw-ef-construction", a->hnsw.ef_construction, "HNSW build depth")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  build->add_flag("--json", a->json, "One JSON object on stdout (sizes, seconds)");
  build->footer(
      "\nThe graph is built on one thread, inserting items in catalogue order (hnswlib 0.6.2\n"
      "draws each item's level from one unsynchronised generator, so parallel inserts would\n"
      "race and the graph would change from run to run); it is the graph `serve --index hnsw`\n"
      "builds at start. The file records the model's catalogue fingerprint: serve refuses it\n"
      "for any other model, or this one retrained.\n"
      "\nExample:\n"
      "  tandem index build --model m.tandem --output m.hnsw\n"
      "  tandem serve --model m.tandem --index hnsw --index-file m.hnsw");
  return [a, build] {
    if (build->parsed()) return run_build(*a);
    return 1;
  };
}

}  // namespace tandem::cli
