// tandem recommend: the tutorials' last cell, through the same Recommender
// (retrieve, then rank by the rating head) that `tandem serve` uses.
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "tandem/core/error.h"
#include "tandem/serve/recommender.h"

namespace tandem::cli {

Action add_recommend(CLI::App& app) {
  struct Options {
    std::string model;
    int64_t user = 0;
    int64_t k = 10;
    std::optional<int64_t> candidates;
    bool exclude_seen = false;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  app.add_option("--model,-m", o->model, "Model file")->required();
  app.add_option("--user,-u", o->user, "User id")->required();
  app.add_option("--k", o->k, "Number of items")->capture_default_str()->check(CLI::Range(1, 100000));
  app.add_option("--candidates", o->candidates,
                 "Items retrieved before ranking by predicted rating (default: --k)")
      ->check(CLI::Range(1, 100000));
  app.add_flag("--exclude-seen", o->exclude_seen, "Leave out the items the user rated in training");
  app.add_flag("--json", o->json, "One JSON object on stdout");
  return [o] {
    const int64_t candidates = o->candidates.value_or(o->k);
    // The CLI's own limits are its option ranges; the server's defaults are
    // for untrusted clients.
    const Recommender rec(load_model(o->model), {100000, 100000, 100000});
    // A user typed on the command line who has no row is more likely a typo
    // than a new user: keep it an error here (the server answers cold start).
    TANDEM_CHECK(rec.user_row(o->user).has_value(),
                 "user " << o->user << " is not in the model's vocabulary ("
                         << rec.model().users.rows() << " rows)");
    const auto res = rec.recommend(std::to_string(o->user), o->k, candidates, o->exclude_seen);
    if (o->json) {
      nlohmann::json items = nlohmann::json::array();
      for (const auto& r : res.items) {
        items.push_back({{"item_id", r.item_id},
                         {"title", r.title},
                         {"score", r.score},
                         {"predicted_rating", r.predicted_rating.value_or(0.0f)}});
      }
      std::cout << nlohmann::json{{"user_id", o->user}, {"k", o->k}, {"items", items}}.dump()
                << std::endl;
    } else {
      std::printf("Top %zu movies for user %lld (retrieved over %lld items, rated by the ranking head):\n",
                  res.items.size(), static_cast<long long>(o->user),
                  static_cast<long long>(rec.catalogue_size()));
      for (const auto& r : res.items)
        std::printf("%s: %.2f\n", r.title.c_str(), r.predicted_rating.value_or(0.0f));
    }
    return 0;
  };
}

}  // namespace tandem::cli
