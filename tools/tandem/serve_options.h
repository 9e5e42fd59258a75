// Options shared by `tandem recommend` and `tandem serve`: which index
// retrieves, with what HNSW settings, so both commands can be pointed at the
// same retrieval path.
#pragma once

#include <CLI/CLI.hpp>

#include "tandem/serve/recommender.h"

namespace tandem::cli {

void add_recommender_options(CLI::App& app, RecommenderOptions& options);

}  // namespace tandem::cli
