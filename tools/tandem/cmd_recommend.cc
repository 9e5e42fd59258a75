// tandem recommend: the tutorials' last cell, through the same Recommender
// (retrieve, then rank by the rating head) and the same JSON encoding that
// `tandem serve` uses, so the two print the same lists for the same model.
#include <cstdio>
#include <iostream>

#include "argument_error.h"
#include "commands.h"
#include "serve_options.h"
#include "tandem/core/blas.h"
#include "tandem/core/error.h"
#include "tandem/serve/api_json.h"
#include "tandem/serve/recommender.h"

namespace tandem::cli {

Action add_recommend(CLI::App& app) {
  struct Options {
    std::string model;
    std::string user;
    int64_t k = 10;
    std::optional<int64_t> candidates;
    bool exclude_seen = false;
    bool json = false;
    std::vector<std::string> features;  // name=value, repeatable
    RecommenderOptions rec;
  };
  auto o = std::make_shared<Options>();
  // The CLI's own limits are its option ranges; the server's defaults are
  // for untrusted clients.
  o->rec.limits = {100000, 100000, 100000};
  app.add_option("--model,-m", o->model, "Model file")->required();
  app.add_option("--user,-u", o->user, "User id (a string for a model trained on string ids)")->required();
  app.add_option("--k", o->k, "Number of items")->capture_default_str()->check(CLI::Range(1, 100000));
  app.add_option("--candidates", o->candidates,
                 "Items retrieved before ranking by predicted rating (default: --k)")
      ->check(CLI::Range(1, 100000));
  app.add_flag("--exclude-seen", o->exclude_seen, "Leave out the items the user rated in training");
  app.add_flag("--json", o->json, "One JSON object on stdout (the server's /v1/recommend reply)");
  app.add_option("--feature", o->features,
                 "NAME=VALUE: a feature of a user the model does not know (repeat it, and a name "
                 "for several values), e.g. --feature occupation=engineer --feature age=31; "
                 "needs a model trained with --user-features")
      ->take_all();
  add_recommender_options(app, o->rec);
  return [o] {
    const int64_t candidates = o->candidates.value_or(o->k);
    // As in `tandem serve`: one BLAS thread. A request's products are small,
    // and a threaded GEMM may split and so round them differently, which
    // would let the CLI and the server disagree in the last bit.
    blas::set_threads(1);
    const Recommender rec(load_model(o->model), o->rec);
    const std::string& user = o->user;
    RawUserFeatures features;
    for (const auto& f : o->features) {
      const size_t eq = f.find('=');
      TANDEM_ARGUMENT_CHECK(eq != std::string::npos && eq > 0,
                            "--feature '" << f << "' must be NAME=VALUE (e.g. occupation=engineer)");
      features[f.substr(0, eq)].push_back(f.substr(eq + 1));
    }
    const auto res = rec.recommend(user, o->k, candidates, o->exclude_seen,
                                   o->features.empty() ? nullptr : &features);
    if (!o->features.empty() && !res.from_features) {
      std::fprintf(stderr, "tandem recommend: user %s is in the model: answered from its own row, "
                           "the --feature values were not used\n", user.c_str());
    }
    // An unknown user gets the server's cold-start answer; on a terminal a
    // typo is likelier than a new user, so say so where a person reads it.
    if (res.from_features) {
      std::fprintf(stderr, "tandem recommend: user %s is not in the model; answering from its "
                           "--feature values\n", user.c_str());
    } else if (res.cold_start) {
      std::fprintf(stderr,
                   "tandem recommend: user %s is not in the model (%lld user rows); answering "
                   "cold start: the most popular movies in training\n",
                   user.c_str(), static_cast<long long>(rec.model().users.rows()));
    }
    if (o->json) {
      std::cout << encode_recommend_result(user, res, rec.model().names.items.get())
                       .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                << std::endl;
      return 0;
    }
    if (res.cold_start && !res.from_features) {
      std::printf("Top %zu movies for new user %s (most rated in training):\n", res.items.size(),
                  user.c_str());
      for (const auto& r : res.items)
        std::printf("%s: %.0f ratings\n", r.title.c_str(), static_cast<double>(r.score));
      return 0;
    }
    // What the number after each title is depends on the head's ranking loss.
    const char* shown = res.ranking_output == RankingOutput::kRating        ? "predicted rating"
                        : res.ranking_output == RankingOutput::kProbability ? "probability of a positive"
                                                                            : "ranking score";
    std::printf("Top %zu movies for %suser %s (%s retrieval over %lld items, ordered by the ranking "
                "head's %s):\n",
                res.items.size(), res.from_features ? "the features of new " : "", user.c_str(),
                res.index.c_str(),
                static_cast<long long>(rec.catalogue_size()), shown);
    for (const auto& r : res.items) std::printf("%s: %.2f\n", r.title.c_str(), r.ranking_value.value_or(0.0f));
    return 0;
  };
}

}  // namespace tandem::cli
