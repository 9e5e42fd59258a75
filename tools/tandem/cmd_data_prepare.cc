// tandem data prepare: what train would read, without training: loads the
// ratings (any layout, the csv format's mapping), splits them as configured
// and encodes them, then prints the counts and the time taken. For checking
// a column mapping or a split, and for timing the loader on large files.
// --write-split DIR also writes the split itself (DIR/train.data and
// DIR/test.data, u.data format, rows in the split's order, which is the
// order the kerasrs preset trains in), so that another implementation (e.g.
// bench/pytorch_reference.py --split-from) can train on exactly the same data.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cmd_options.h"
#include "commands.h"
#include "tandem/prepare/prepared_data.h"
#include "tandem/prepare/split_ratings.h"
#include "tandem/core/error.h"
#include "tandem/data/ratings_writer.h"

namespace tandem::cli {

namespace {

// u.data needs a timestamp per row: a source without them gets zeros.
void write_split_file(Ratings r, const std::string& path) {
  if (!r.has_timestamps()) r.timestamps.assign(r.size(), 0);
  write_ratings(r, path);
}

void write_split(const ExperimentConfig& c, const std::string& dir) {
  const SplitRatings s = load_split_ratings(c);
  TANDEM_CHECK(s.names.users == nullptr && s.names.items == nullptr,
               "--write-split writes integer ids only; these ratings have string ids");
  write_split_file(s.train, dir + "/train.data");
  write_split_file(s.test, dir + "/test.data");
}

}  // namespace

Action add_data_prepare(CLI::App& app) {
  auto o = std::make_shared<ExperimentOptions>();
  o->add_to(app, /*with_weights=*/false);
  auto split_dir = std::make_shared<std::string>();
  app.add_option("--write-split", *split_dir,
                 "Also write the split to DIR/train.data and DIR/test.data (u.data format, in "
                 "the split's order; integer ids only)")
      ->check(CLI::ExistingDirectory);
  return [o, split_dir] {
    const ExperimentConfig c = o->resolve();
    const auto t0 = std::chrono::steady_clock::now();
    const PreparedData d = prepare_data(c);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!split_dir->empty()) write_split(c, *split_dir);
    const nlohmann::json j = {{"source", d.source},
                              {"train", d.train.size()},
                              {"test_pairs", d.coverage.pairs},
                              {"test_evaluated", d.test.size()},
                              {"user_rows", d.users.rows()},
                              {"item_rows", d.items.rows()},
                              {"catalogue", d.catalogue.size()},
                              {"string_ids", d.names.users != nullptr},
                              {"weighted", !d.train.weights.empty()},
                              {"seconds", seconds}};
    if (o->json) {
      std::cout << j.dump() << std::endl;
      return 0;
    }
    std::printf("%s\ntrain %zu, test %lld (%zu evaluated), %lld user rows, %lld item rows, %zu catalogue items; %.2f s\n",
                d.source.c_str(), d.train.size(), static_cast<long long>(d.coverage.pairs), d.test.size(),
                static_cast<long long>(d.users.rows()), static_cast<long long>(d.items.rows()),
                d.catalogue.size(), seconds);
    return 0;
  };
}

}  // namespace tandem::cli
