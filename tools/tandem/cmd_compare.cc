// tandem compare: the tutorials' table.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cmd_options.h"
#include "commands.h"
#include "tandem/core/writable_path.h"
#include "tandem/experiment/baseline.h"
#include "tandem/evaluate/eval_summary.h"
#include "tandem/experiment/experiment.h"
#include "tandem/experiment/progress_display.h"

namespace tandem::cli {

namespace {

const char* display_name(const std::string& model) {
  if (model == "rating") return "rating-specialised";
  if (model == "retrieval") return "retrieval-specialised";
  if (model == "joint") return "multi-task";
  if (model == "popularity") return "most-popular baseline";
  return model.c_str();
}

std::string shortest(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

void print_table(const ExperimentConfig& c, const PreparedData& data,
                 const std::vector<RunResult>& results) {
  std::printf("\nPreset %s on %s\n", c.preset.c_str(), data.source.c_str());
  // Column widths are in characters; the arrows are 3 bytes but 1 column wide.
  const std::string acc = "Top-" + std::to_string(c.k) + " accuracy (↑)";
  const int acc_width = std::max<int>(19, static_cast<int>(acc.size()) - 2);
  std::printf("| %-21s | %-*s | %-10s | %-9s |\n", "Model", acc_width + 2, acc.c_str(), "RMSE (↓)",
              "Train (s)");
  std::printf("|-----------------------|%s|----------|-----------|\n",
              std::string(static_cast<size_t>(acc_width) + 2, '-').c_str());
  for (const auto& r : results) {
    std::printf("| %-21s | %*.3f | %8.3f | %9.2f |\n", display_name(r.model), acc_width,
                r.eval.topk_accuracy,
                r.eval.rmse, r.train_seconds);
  }
  const auto& e = results.front().eval;
  std::printf("The baseline ranks by training count (no model); its RMSE is that of the mean training rating.\n");
  const std::string catalogue =
      data.catalogue.candidate_rows.empty()
          ? "full catalogue of " + std::to_string(data.catalogue.size()) + " items"
          : "all " + std::to_string(data.catalogue.candidates().size()) + " catalogue entries as candidates (" +
                std::to_string(data.catalogue.size()) + " distinct " +
                (c.item_key == ItemKey::kTitle ? "titles" : "rows") + ")";
  std::printf("Top-%lld accuracy over %.0f test pairs%s, %s; RMSE %s.\n",
              static_cast<long long>(c.k), e.topk_weight,
              c.topk_min_rating ? " rated 5 stars" : "", catalogue.c_str(),
              c.label_transform == LabelTransform::kRaw ? "in stars" : "on the (rating-1)/4 scale");
  if (c.exclude_seen) std::printf("Each user's training items are excluded from the candidates.\n");
  std::vector<std::pair<std::string, EvalResult>> rows;
  for (const auto& r : results) rows.emplace_back(display_name(r.model), r.eval);
  const std::string ranking = ranking_table(rows);
  if (!ranking.empty()) {
    const auto& e0 = results.front().eval;
    const std::string relevant =
        c.topk_min_rating ? " (rated >= " + shortest(*c.topk_min_rating) + ")" : std::string();
    std::printf("\nPer-user ranking over the full catalogue (%lld users with a relevant test item%s; "
                "seen items %s) and AUC of the predicted rating (rating >= %s is positive; the "
                "baseline ranks pairs by item popularity):\n%s",
                static_cast<long long>(e0.ranking_users), relevant.c_str(),
                c.exclude_seen ? "excluded" : "kept", shortest(e0.auc_threshold).c_str(), ranking.c_str());
  }
  const auto& cov = data.coverage;
  if (cov.skipped_unknown + cov.mapped_to_oov + cov.user_unseen_in_train + cov.item_unseen_in_train > 0) {
    std::printf("Test pairs: %lld, users unseen in training %lld, items unseen %lld, "
                "mapped to OOV %lld, skipped (unknown id) %lld.\n",
                static_cast<long long>(cov.pairs), static_cast<long long>(cov.user_unseen_in_train),
                static_cast<long long>(cov.item_unseen_in_train),
                static_cast<long long>(cov.mapped_to_oov), static_cast<long long>(cov.skipped_unknown));
  }
}

}  // namespace

Action add_compare(CLI::App& app) {
  auto opts = std::make_shared<ExperimentOptions>();
  auto output_dir = std::make_shared<std::string>();
  opts->add_to(app, /*with_weights=*/false);
  app.add_option("--output-dir", *output_dir,
                 "Save the three models as rating.tandem, retrieval.tandem, joint.tandem here");
  return [opts, output_dir] {
    const ExperimentConfig base = opts->resolve();
    // Before training: the three models are saved only after it.
    if (!output_dir->empty()) require_writable_directory(*output_dir, "--output-dir");
    const PreparedData data = prepare_data(base);
    if (!output_dir->empty()) std::filesystem::create_directories(*output_dir);
    ProgressDisplay progress(ProgressDisplay::detect(opts->quiet));
    const ProgressHooks hooks = progress.hooks();
    std::vector<RunResult> results;
    // The baseline first: every retrieval figure is read against it.
    results.push_back(evaluate_popularity(base, data));
    if (opts->json) std::cout << results.back().to_json().dump() << std::endl;
    for (const auto& v : tutorial_variants()) {
      ExperimentConfig c = base;
      c.weights = v.weights;
      auto [model, result] =
          train_and_evaluate(c, data, v.name, progress.on_epoch(c.epochs), nullptr, &hooks);
      if (opts->json) std::cout << result.to_json().dump() << std::endl;
      if (!output_dir->empty()) {
        const auto path = std::filesystem::path(*output_dir) / (v.name + ".tandem");
        save_model(path.string(), model);
        if (!opts->quiet) std::fprintf(stderr, "saved %s\n", path.c_str());
      }
      results.push_back(std::move(result));
    }
    if (!opts->json) print_table(base, data, results);
    return 0;
  };
}

}  // namespace tandem::cli
