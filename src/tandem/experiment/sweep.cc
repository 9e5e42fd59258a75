#include "tandem/experiment/sweep.h"

#include <chrono>
#include <filesystem>

#include "tandem/core/error.h"
#include "tandem/core/machine_info.h"

namespace tandem {

namespace fs = std::filesystem;

namespace {
// `base` trained with weights `w`: the extra tasks' weights, when given,
// go to the extra tasks (which is what the model file stores).
ExperimentConfig with_weights(const ExperimentConfig& base, const TaskWeights& w) {
  ExperimentConfig c = base;
  c.weights = w;
  for (int e = 0; e < w.extra_count && e < static_cast<int>(c.extra_tasks.size()); ++e)
    c.extra_tasks[static_cast<size_t>(e)].weight = w.extra[static_cast<size_t>(e)];
  return c;
}
}  // namespace

SweepRecord run_sweep(const ExperimentConfig& base, const std::vector<TaskWeights>& weights,
                      const std::string& run_dir, const SweepCallbacks& callbacks) {
  TANDEM_CHECK(!weights.empty(), "a sweep needs at least one weight pair");
  base.validate();
  // The sweep's front and report trade top-K accuracy against RMSE, which a
  // head trained with another ranking loss does not have.
  TANDEM_CHECK(base.ranking_loss == RankingLossKind::kMse,
               "a sweep trades top-K accuracy against RMSE, and the "
                   << to_string(base.ranking_loss)
                   << " ranking loss predicts no rating (no RMSE): sweep with the mse loss, or "
                      "train each weight pair with `tandem train`");
  for (const auto& w : weights) {
    TANDEM_CHECK(w.extra_count == 0 || w.extra_count == static_cast<int>(base.extra_tasks.size()),
                 "weights " << weights_label(w) << " give " << w.extra_count
                            << " extra-task weights; the config has " << base.extra_tasks.size()
                            << " extra tasks");
    with_weights(base, w).validate();  // before any training: a bad pair late in the list fails now
  }
  const fs::path dir(run_dir);
  const std::string record_path = sweep_record_path(run_dir);
  TANDEM_CHECK(!fs::exists(record_path), record_path
                                             << " already exists: choose another --out directory "
                                                "or remove the old run");

  const auto start = std::chrono::steady_clock::now();
  SweepRecord rec;
  rec.config = base;
  rec.started_at = utc_timestamp();
  rec.machine = machine_info();
  const PreparedData data = prepare_data(base);  // once: the weights do not change it
  fs::create_directories(dir / "models");  // only once the data is known to be good
  rec.data_source = data.source;
  rec.data = {{"train_pairs", data.train.size()},
              {"test_pairs", data.test.size()},
              {"catalogue_items", data.catalogue.size()},
              {"test", data.coverage.to_json()}};
  for (const auto& w : weights) {
    const ExperimentConfig c = with_weights(base, w);
    SweepVariant v;
    v.weights = w;
    v.label = weights_label(w);
    v.model_file = (fs::path("models") / sweep_model_file_name(w)).string();
    auto [model, result] = train_and_evaluate(c, data, v.label, callbacks.on_epoch);
    save_model((dir / v.model_file).string(), model);
    v.train_seconds = result.train_seconds;
    v.eval = result.eval;
    v.history = result.history;
    rec.variants.push_back(std::move(v));
    rec.update_pareto();
    rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rec.complete = rec.variants.size() == weights.size();
    write_sweep_record(run_dir, rec);
    if (callbacks.on_variant) callbacks.on_variant(rec.variants.back());
  }
  return rec;
}

}  // namespace tandem
