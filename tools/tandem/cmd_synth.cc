// tandem synth: a seeded synthetic interaction log in u.data format, for
// scaling benchmarks at sizes MovieLens does not come in.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "commands.h"
#include "tandem/data/ratings_writer.h"
#include "tandem/data/synthetic.h"

namespace tandem::cli {

Action add_synth(CLI::App& app) {
  struct Options {
    SyntheticSpec spec;
    std::string output;
    std::string layout = "movielens-100k";
  };
  auto o = std::make_shared<Options>();
  // Ranges are checked by tandem::validate, whose messages name the field;
  // repeating them here would only let the two drift apart.
  app.add_option("--users", o->spec.users, "Number of users (ids 1..N)")->capture_default_str();
  app.add_option("--items", o->spec.items, "Number of items (ids 1..N)")->capture_default_str();
  app.add_option("--interactions", o->spec.interactions, "Number of rows (duplicate pairs allowed)")
      ->capture_default_str();
  app.add_option("--latent-dim", o->spec.latent_dim, "Dimension of the hidden taste vectors")
      ->capture_default_str();
  app.add_option("--user-zipf", o->spec.user_zipf, "Power-law exponent of user activity (0 = uniform)")
      ->capture_default_str();
  app.add_option("--item-zipf", o->spec.item_zipf, "Power-law exponent of item popularity (0 = uniform)")
      ->capture_default_str();
  app.add_option("--noise", o->spec.noise, "Standard deviation of the rating noise, in stars")
      ->capture_default_str();
  app.add_option("--seed", o->spec.seed, "Random seed (same seed, same file)")->capture_default_str();
  app.add_option("--output,-o", o->output, "Ratings file to write (atomically)")->required();
  app.add_option("--layout", o->layout,
                 "movielens-100k (u.data: tab-separated, no header) or movielens-csv (ratings.csv: "
                 "header userId,movieId,rating,timestamp, comma-separated)")
      ->check(CLI::IsMember({"movielens-100k", "movielens-csv"}))
      ->capture_default_str();
  return [o] {
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    const Ratings r = generate_synthetic(o->spec);
    const auto t1 = Clock::now();
    write_ratings(r, o->output,
                  o->layout == "movielens-csv" ? movielens_csv_ratings() : movielens_100k_ratings());
    const auto t2 = Clock::now();
    const auto seconds = [](auto d) { return std::chrono::duration<double>(d).count(); };
    std::printf(
        "Wrote %zu interactions (%lld users, %lld items, latent dim %lld, seed %llu) to %s: "
        "generated in %.2f s, written in %.2f s\n",
        r.size(), static_cast<long long>(o->spec.users), static_cast<long long>(o->spec.items),
        static_cast<long long>(o->spec.latent_dim), static_cast<unsigned long long>(o->spec.seed),
        o->output.c_str(), seconds(t1 - t0), seconds(t2 - t1));
    return 0;
  };
}

}  // namespace tandem::cli
