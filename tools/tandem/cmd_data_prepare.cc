// tandem data prepare: what train would read, without training: loads the
// ratings (any layout, the csv format's mapping), splits them as configured
// and encodes them, then prints the counts and the time taken. For checking
// a column mapping or a split, and for timing the loader on large files.
// --write-split DIR also writes the split itself (DIR/train.data and
// DIR/test.data, u.data format, rows in the split's order, which is the
// order the kerasrs preset trains in), so that another implementation (e.g.
// bench/pytorch_reference.py --split-from) can train on exactly the same data.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cmd_options.h"
#include "commands.h"
#include "tandem/core/writable_path.h"
#include "tandem/prepare/prepared_data.h"
#include "tandem/prepare/prepared_store.h"
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

// Bytes of the ratings file(s) the config reads (0 when not found).
int64_t ratings_input_bytes(const ExperimentConfig& c) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  if (c.explicit_split()) {
    files = {c.train_file, c.test_file};
  } else if (!c.csv.ratings_file.empty()) {
    files = {c.csv.ratings_file};
  } else {
    for (const char* name : {"u.data", "ratings.dat", "ratings.csv"}) files.push_back(c.data_dir + "/" + name);
  }
  int64_t bytes = 0;
  std::error_code ec;
  for (const auto& f : files)
    if (fs::is_regular_file(f, ec)) bytes += static_cast<int64_t>(fs::file_size(f, ec));
  return bytes;
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
  auto store_dir = std::make_shared<std::string>();
  app.add_option("--output", *store_dir,
                 "Also write the prepared examples to the new directory DIR as a binary, checksummed "
                 "example store for tandem train --prepared DIR (see docs/store.md)");
  return [o, split_dir, store_dir] {
    const ExperimentConfig c = o->resolve();
    // The store is written after the data is parsed: check where first.
    if (!store_dir->empty()) require_writable_directory(*store_dir, "--output");
    const auto t0 = std::chrono::steady_clock::now();
    PrepareSeconds phases;
    const PreparedData d = prepare_data(c, &phases);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!split_dir->empty()) write_split(c, *split_dir);
    double store_seconds = 0.0;
    int64_t store_bytes = 0;
    if (!store_dir->empty()) {
      const auto t1 = std::chrono::steady_clock::now();
      write_prepared_store(*store_dir, c, d);
      store_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
      for (const auto& e : std::filesystem::directory_iterator(*store_dir)) store_bytes += e.file_size();
    }
    const int64_t input_bytes = ratings_input_bytes(c);
    const auto rows = static_cast<int64_t>(d.train.size()) + d.coverage.pairs;
    const double split_encode = phases.split + phases.encode;
    // Every phase's rate is of the input's bytes (how fast a file of this
    // size goes through it), except the store write's, of the bytes written.
    const auto mb_per_s = [](int64_t bytes, double s) { return s > 0 ? static_cast<double>(bytes) / 1e6 / s : 0.0; };
    const auto phase = [&](double s, int64_t bytes) {
      return nlohmann::json{{"seconds", s}, {"mb_per_s", mb_per_s(bytes, s)}, {"rows_per_s", s > 0 ? static_cast<double>(rows) / s : 0.0}};
    };
    nlohmann::json j = {{"source", d.source},
                              {"train", d.train.size()},
                              {"test_pairs", d.coverage.pairs},
                              {"test_evaluated", d.test.size()},
                              {"user_rows", d.users.rows()},
                              {"item_rows", d.items.rows()},
                              {"catalogue", d.catalogue.size()},
                              {"string_ids", d.names.users != nullptr},
                              {"weighted", !d.train.weights.empty()},
                              {"threads", effective_threads(c)},
                              {"rows", rows},
                              {"seconds", seconds},
                              {"input_bytes", input_bytes},
                              {"load_mb_per_s", mb_per_s(input_bytes, seconds)},
                              {"phases", {{"load", phase(phases.load, input_bytes)},
                                          {"split_encode", phase(split_encode, input_bytes)},
                                          {"split_seconds", phases.split},
                                          {"encode_seconds", phases.encode}}}};
    if (!store_dir->empty()) {
      j["store"] = *store_dir;
      j["store_bytes"] = store_bytes;
      j["store_seconds"] = store_seconds;
      j["phases"]["store_write"] = phase(store_seconds, store_bytes);
    }
    if (o->json) {
      std::cout << j.dump() << std::endl;
      return 0;
    }
    std::printf("%s\ntrain %zu, test %lld (%zu evaluated), %lld user rows, %lld item rows, %zu catalogue items; %.2f s\n",
                d.source.c_str(), d.train.size(), static_cast<long long>(d.coverage.pairs), d.test.size(),
                static_cast<long long>(d.users.rows()), static_cast<long long>(d.items.rows()),
                d.catalogue.size(), seconds);
    std::printf("%lld rows, %.1f MB of ratings, %d thread%s:\n", static_cast<long long>(rows),
                static_cast<double>(input_bytes) / 1e6, effective_threads(c), effective_threads(c) == 1 ? "" : "s");
    std::printf("  load (read, parse)  %7.2f s  %7.1f MB/s\n", phases.load, mb_per_s(input_bytes, phases.load));
    std::printf("  split, encode       %7.2f s  %7.1f MB/s (split %.2f s, encode %.2f s)\n", split_encode,
                mb_per_s(input_bytes, split_encode), phases.split, phases.encode);
    std::printf("  all                 %7.2f s  %7.1f MB/s\n", seconds, mb_per_s(input_bytes, seconds));
    if (!store_dir->empty())
      std::printf("  store write         %7.2f s  %7.1f MB/s (%.1f MB to %s)\n", store_seconds,
                  mb_per_s(store_bytes, store_seconds), static_cast<double>(store_bytes) / 1e6, store_dir->c_str());
    return 0;
  };
}

}  // namespace tandem::cli
