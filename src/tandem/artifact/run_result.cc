#include "tandem/artifact/run_result.h"

#include "tandem/core/error.h"

namespace tandem {

nlohmann::json epochs_to_json(const std::vector<EpochStats>& h) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& e : h) {
    a.push_back({{"epoch", e.epoch},
                 {"steps", e.steps},
                 {"ranking_loss", e.ranking_loss},
                 {"retrieval_loss", e.retrieval_loss},
                 {"total_loss", e.total_loss},
                 {"score_entries", e.score_entries},
                 {"learning_rate", e.learning_rate},
                 {"seconds", e.seconds}});
    if (e.learned_task_weights.size() >= 2) {
      a.back()["learned_task_weights"] = {{"retrieval", e.learned_task_weights[0]},
                                          {"ranking", e.learned_task_weights[1]}};
      // Extra tasks' in task order (with them only).
      if (e.learned_task_weights.size() > 2)
        a.back()["learned_task_weights"]["extra"] =
            std::vector<double>(e.learned_task_weights.begin() + 2, e.learned_task_weights.end());
    }
    if (!e.extra_losses.empty()) a.back()["extra_losses"] = e.extra_losses;
  }
  return a;
}

std::vector<EpochStats> epochs_from_json(const nlohmann::json& a) {
  TANDEM_CHECK(a.is_array(), "per-epoch history must be an array");
  std::vector<EpochStats> h;
  try {
    for (const auto& e : a) {
      EpochStats s;
      s.epoch = e.at("epoch").get<int>();
      s.steps = e.at("steps").get<int64_t>();
      s.ranking_loss = e.at("ranking_loss").get<double>();
      s.retrieval_loss = e.at("retrieval_loss").get<double>();
      s.total_loss = e.at("total_loss").get<double>();
      s.score_entries = e.value("score_entries", 0.0);
      s.learning_rate = e.value("learning_rate", 0.0);  // absent in older files
      s.seconds = e.at("seconds").get<double>();
      if (e.contains("learned_task_weights")) {
        const auto& lw = e.at("learned_task_weights");
        s.learned_task_weights = {lw.at("retrieval").get<double>(), lw.at("ranking").get<double>()};
        if (lw.contains("extra"))
          for (const auto& x : lw.at("extra")) s.learned_task_weights.push_back(x.get<double>());
      }
      if (e.contains("extra_losses")) s.extra_losses = e.at("extra_losses").get<std::vector<double>>();
      h.push_back(s);
    }
  } catch (const nlohmann::json::exception& ex) {
    TANDEM_THROW("bad per-epoch history: " << ex.what());
  }
  return h;
}

nlohmann::json RunResult::to_json() const {
  nlohmann::json j = eval.to_json();
  j["model"] = model;
  j["preset"] = config.preset;
  j["seed"] = config.seed;
  j["ranking_weight"] = config.weights.ranking;
  j["retrieval_weight"] = config.weights.retrieval;
  j["train_seconds"] = train_seconds;
  j["epochs"] = epochs_to_json(history);
  j["test"] = coverage.to_json();
  return j;
}

}  // namespace tandem
