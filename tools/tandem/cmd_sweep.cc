// tandem sweep: one model per (ranking, retrieval) weight pair on one split;
// the run directory feeds `tandem report`.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "argument_error.h"
#include "cmd_options.h"
#include "commands.h"
#include "tandem/core/writable_path.h"
#include "tandem/evaluate/eval_summary.h"
#include "tandem/experiment/sweep.h"

namespace tandem::cli {

namespace {

void print_table(const SweepRecord& rec, const std::string& out) {
  const auto& c = rec.config;
  std::string order = "ranking:retrieval";
  for (const auto& t : c.extra_tasks) order += ":" + t.name;
  std::printf("\nSweep of %zu weight %s (%s), preset %s on %s\n", rec.variants.size(),
              c.extra_tasks.empty() ? "pairs" : "vectors", order.c_str(), c.preset.c_str(),
              rec.data_source.c_str());
  // Widths are in columns; the arrows are 3 bytes but 1 column wide.
  const std::string acc = "Top-" + std::to_string(c.k) + " accuracy (↑)";
  const int acc_width = std::max<int>(19, static_cast<int>(acc.size()) - 2);
  // Each extra task's AUC, a further objective of the front.
  std::string extra_head, extra_rule;
  for (const auto& task : rec.variants.front().eval.tasks) {
    const std::string h = task.first + " AUC (↑)";
    const int w = std::max(8, static_cast<int>(h.size()) - 2);
    extra_head += " " + h + std::string(static_cast<size_t>(w - static_cast<int>(h.size()) + 2), ' ') + " |";
    extra_rule += std::string(static_cast<size_t>(w) + 2, '-') + "|";
  }
  std::printf("| %-21s | %-*s | %-10s |%s %-9s | %-6s |\n", "Weights (rank:retr)", acc_width + 2,
              acc.c_str(), "RMSE (↓)", extra_head.c_str(), "Train (s)", "Pareto");
  std::printf("|-----------------------|%s|----------|%s-----------|--------|\n",
              std::string(static_cast<size_t>(acc_width) + 2, '-').c_str(), extra_rule.c_str());
  for (const auto& v : rec.variants) {
    std::string extra;
    for (const auto& task : v.eval.tasks) {
      const std::string h = task.first + " AUC (↑)";
      const int w = std::max(8, static_cast<int>(h.size()) - 2);
      char cell[64];
      std::snprintf(cell, sizeof cell, " %*.4f |", w, task.second.auc);
      extra += cell;
    }
    std::printf("| %-21s | %*.4f | %8.4f |%s %9.2f | %-6s |\n", v.label.c_str(), acc_width,
                v.eval.topk_accuracy, v.eval.rmse, extra.c_str(), v.train_seconds, v.pareto ? "yes" : "no");
  }
  std::vector<std::pair<std::string, EvalResult>> rows;
  for (const auto& v : rec.variants) rows.emplace_back(v.label, v.eval);
  const std::string ranking = ranking_table(rows, "Weights (rank:retr)");
  if (!ranking.empty())
    std::printf("Per-user ranking metrics (seen items %s) and AUC of the rating head:\n%s",
                c.exclude_seen ? "excluded" : "kept", ranking.c_str());
  const auto points = rec.trade_offs();
  std::string front;
  for (size_t i : front_order(points)) front += (front.empty() ? "" : ", ") + rec.variants[i].label;
  std::printf("Pareto front%s (by RMSE): %s.",
              c.extra_tasks.empty() ? "" : " (top-K, RMSE and each extra task's AUC)", front.c_str());
  if (const auto b = rec.balanced()) std::printf(" Balanced: %s.", rec.variants[*b].label.c_str());
  std::printf("\nRMSE %s. Run directory %s: run.json, models/; render it with `tandem report %s`.\n",
              c.label_transform == LabelTransform::kRaw ? "in stars" : "on the (rating-1)/4 scale",
              out.c_str(), out.c_str());
}

}  // namespace

Action add_sweep(CLI::App& app) {
  auto opts = std::make_shared<ExperimentOptions>();
  auto weights = std::make_shared<std::string>(kDefaultSweepWeights);
  auto out = std::make_shared<std::string>();
  opts->add_to(app, /*with_weights=*/false);
  app.add_option("--weights", *weights,
                 "Comma-separated weight pairs RANKING:RETRIEVAL (ranking weight first), one model "
                 "each; with extra tasks (--task) each pair may be followed by their weights, "
                 "RANKING:RETRIEVAL:EXTRA...")
      ->capture_default_str();
  app.add_option("--out", *out, "Run directory to create: run.json and models/*.tandem")->required();
  return [opts, weights, out] {
    // Before loading any data; a malformed --weights is a command-line error.
    const auto pairs = as_argument_error([&] { return parse_weight_pairs(*weights); });
    const ExperimentConfig base = opts->resolve();
    require_writable_directory(*out, "--out");  // before the first model trains
    SweepCallbacks callbacks;
    callbacks.on_epoch = epoch_printer(base, opts->quiet);
    if (opts->json)
      callbacks.on_variant = [](const SweepVariant& v) { std::cout << v.to_json().dump() << std::endl; };
    const SweepRecord rec = run_sweep(base, pairs, *out, callbacks);
    if (!opts->json) print_table(rec, *out);
    return 0;
  };
}

}  // namespace tandem::cli
