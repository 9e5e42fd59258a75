#include "serve_options.h"

namespace tandem::cli {

void add_recommender_options(CLI::App& app, RecommenderOptions& o) {
  app.add_option("--index", o.index,
                 "Retrieval index: exact (brute force) or hnsw (approximate, built at load or --index-file)")
      ->capture_default_str()
      ->check(CLI::IsMember({"exact", "hnsw"}));
  app.add_option("--index-file", o.index_file,
                 "Load the HNSW graph saved by `tandem index build` instead of building it "
                 "(needs --index hnsw; refused if built for another model)");
  app.add_option("--ef-search", o.hnsw.ef_search, "HNSW search depth (at least the candidates asked for)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--hnsw-m", o.hnsw.M, "HNSW graph degree")->capture_default_str()->check(CLI::Range(2, 1024));
  app.add_option("--hnsw-ef-construction", o.hnsw.ef_construction, "HNSW build depth")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
}

}  // namespace tandem::cli
