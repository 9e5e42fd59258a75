// tandem data prepare: what train would read, without training: loads the
// ratings (any layout, the csv format's mapping), splits them as configured
// and encodes them, then prints the counts and the time taken. For checking
// a column mapping or a split, and for timing the loader on large files.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cmd_options.h"
#include "commands.h"
#include "tandem/app/prepared_data.h"

namespace tandem::cli {

Action add_data_prepare(CLI::App& app) {
  auto o = std::make_shared<ExperimentOptions>();
  o->add_to(app, /*with_weights=*/false);
  return [o] {
    const ExperimentConfig c = o->resolve();
    const auto t0 = std::chrono::steady_clock::now();
    const PreparedData d = prepare_data(c);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
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
