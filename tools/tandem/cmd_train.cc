// tandem train: one model, saved to --output.
#include <cstdio>
#include <iostream>

#include "cmd_options.h"
#include "commands.h"
#include "tandem/app/experiment.h"

namespace tandem::cli {

Action add_train(CLI::App& app) {
  auto opts = std::make_shared<ExperimentOptions>();
  auto output = std::make_shared<std::string>();
  opts->add_to(app, /*with_weights=*/true);
  app.add_option("--output,-o", *output, "Model file to write (atomically)");
  return [opts, output] {
    const ExperimentConfig c = opts->resolve();
    const PreparedData data = prepare_data(c);
    auto [model, result] = train_and_evaluate(c, data, "custom", epoch_printer(c, opts->quiet));
    if (!output->empty()) save_model(*output, model);
    if (opts->json) {
      nlohmann::json j = result.to_json();
      j["output"] = *output;
      std::cout << j.dump() << std::endl;
    } else {
      std::printf("Trained on %s: %zu train pairs, %lld test pairs evaluated.\n", data.source.c_str(),
                  data.train.size(), static_cast<long long>(result.eval.evaluated));
      std::printf("top-%lld accuracy %.4f, RMSE %.4f, training %.2f s\n",
                  static_cast<long long>(c.k), result.eval.topk_accuracy, result.eval.rmse,
                  result.train_seconds);
      if (!output->empty()) {
        std::printf("Model saved to %s\n", output->c_str());
      } else {
        std::printf("No --output given: the model was not saved.\n");
      }
    }
    return 0;
  };
}

}  // namespace tandem::cli
