// tandem recommend: the tutorials' last cell.
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "tandem/app/recommend.h"

namespace tandem::cli {

Action add_recommend(CLI::App& app) {
  struct Options {
    std::string model;
    int64_t user = 0;
    int64_t k = 10;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  app.add_option("--model,-m", o->model, "Model file")->required();
  app.add_option("--user,-u", o->user, "User id")->required();
  app.add_option("--k", o->k, "Number of items")->capture_default_str()->check(CLI::Range(1, 100000));
  app.add_flag("--json", o->json, "One JSON object on stdout");
  return [o] {
    const TrainedModel m = load_model(o->model);
    const auto recs = recommend(m, o->user, o->k);
    if (o->json) {
      nlohmann::json items = nlohmann::json::array();
      for (const auto& r : recs) {
        items.push_back({{"item_id", r.item_id},
                         {"title", r.title},
                         {"score", r.score},
                         {"predicted_rating", r.predicted_rating}});
      }
      std::cout << nlohmann::json{{"user_id", o->user}, {"k", o->k}, {"items", items}}.dump()
                << std::endl;
    } else {
      std::printf("Top %zu movies for user %lld (retrieved over %zu items, rated by the ranking head):\n",
                  recs.size(), static_cast<long long>(o->user), m.catalogue.size());
      for (const auto& r : recs) std::printf("%s: %.2f\n", r.title.c_str(), r.predicted_rating);
    }
    return 0;
  };
}

}  // namespace tandem::cli
