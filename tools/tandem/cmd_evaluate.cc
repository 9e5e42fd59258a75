// tandem evaluate: a saved model on its own test split (or --test FILE).
#include <cstdio>
#include <iostream>

#include "cmd_options.h"
#include "commands.h"
#include "tandem/evaluate/eval_summary.h"
#include "tandem/evaluate/evaluation.h"
#include "tandem/experiment/experiment.h"
#include "tandem/experiment/model_evaluation.h"
#include "tandem/artifact/reference_split.h"

namespace tandem::cli {

Action add_evaluate(CLI::App& app) {
  struct Options {
    std::string model, data, test;
    bool json = false;
    SettingFlags settings;  // --k, --threads and the evaluation settings
  };
  auto o = std::make_shared<Options>();
  app.add_option("--model,-m", o->model, "Model file")->required();
  app.add_option("--data", o->data, "Data directory, if it moved since training");
  app.add_option("--test", o->test, "Evaluate on this u.data-format file instead");
  o->settings.add_to(
      app,
      [](const Setting& s) {
        return s.path() == "training.threads" ||
               (std::string(s.table) == "evaluation" && s.path() != "evaluation.batch_size");
      },
      "(default: the model's)");
  app.add_flag("--json", o->json, "One JSON object on stdout");
  return [o] {
    TrainedModel m = load_model(o->model);
    o->settings.apply(m.config);
    m.config.validate();
    apply_threads(m.config);
    const PreparedData data = model_test_set(m, o->data, o->test);
    const EvalResult r = evaluate_trained_model(m, data);
    if (o->json) {
      nlohmann::json j = evaluation_json(m, r, data);
      j["model"] = o->model;
      std::cout << j.dump() << std::endl;
    } else {
      std::printf("Model %s (preset %s) on %s\n", o->model.c_str(), m.config.preset.c_str(),
                  data.source.c_str());
      std::printf("top-%lld accuracy %.4f over %.0f pairs, RMSE %s over %lld pairs\n",
                  static_cast<long long>(r.k), r.topk_accuracy, r.topk_weight,
                  rmse_text(r.rmse, m.config).c_str(), static_cast<long long>(r.evaluated));
      const std::string ranking = ranking_summary(r);
      if (!ranking.empty()) std::printf("%s\n", ranking.c_str());
      const auto& c = data.coverage;
      std::printf("test pairs %lld: mapped to OOV %lld, skipped (unknown id) %lld\n",
                  static_cast<long long>(c.pairs), static_cast<long long>(c.mapped_to_oov),
                  static_cast<long long>(c.skipped_unknown));
    }
    return 0;
  };
}

}  // namespace tandem::cli
