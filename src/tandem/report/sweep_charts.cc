#include "tandem/report/sweep_charts.h"

#include <algorithm>
#include <cmath>

#include "tandem/report/markup.h"

namespace tandem::report {

namespace {

std::string point_tooltip(const SweepRecord& sweep, const SweepVariant& v) {
  return v.label + " (ranking:retrieval): " + accuracy_name(sweep.config) + " " +
         format_accuracy(v.eval.topk_accuracy) + ", RMSE " + format_rmse(sweep.config, v.eval.rmse) +
         (v.pareto ? ", on the Pareto front" : ", dominated");
}

// The trade-off chart over the variants with include[i].
ChartSpec trade_off_chart(const SweepRecord& sweep, std::optional<size_t> chosen,
                          const std::vector<bool>& include) {
  ChartSpec c;
  c.x_label = rmse_name(sweep.config) + " \u2014 lower is better";
  c.y_label = accuracy_name(sweep.config) + " \u2014 higher is better";
  c.width = 520;
  c.height = 420;
  c.legend = LegendPlacement::kBelow;
  Series dominated, ring, front;
  dominated.name = "Dominated";
  dominated.colour = "#7b8794";
  dominated.line = false;
  dominated.hollow = true;
  dominated.marker_radius = 5;
  dominated.label_points = true;
  dominated.css_class = "dominated";
  front.name = "Pareto front";
  front.colour = "#d1495b";
  front.marker_radius = 5.5;
  front.label_points = true;
  front.css_class = "front";
  for (size_t i : front_order(sweep.trade_offs())) {
    if (!include[i]) continue;
    const auto& v = sweep.variants[i];
    front.points.push_back({v.eval.rmse, v.eval.topk_accuracy, v.label, point_tooltip(sweep, v)});
  }
  for (size_t i = 0; i < sweep.variants.size(); ++i) {
    const auto& v = sweep.variants[i];
    if (include[i] && !v.pareto)
      dominated.points.push_back({v.eval.rmse, v.eval.topk_accuracy, v.label, point_tooltip(sweep, v)});
  }
  c.series.push_back(std::move(dominated));
  if (chosen && include[*chosen]) {
    const auto& v = sweep.variants[*chosen];
    ring.name = "Recommendations";
    ring.colour = "#1f2933";
    ring.line = false;
    ring.hollow = true;
    ring.marker_radius = 10;
    ring.css_class = "choice";
    ring.marker_class = "choice-ring";
    ring.points.push_back(
        {v.eval.rmse, v.eval.topk_accuracy, "", v.label + ": the model of the sample recommendations"});
    c.series.push_back(std::move(ring));
  }
  c.series.push_back(std::move(front));
  return c;
}

std::string front_text(const SweepRecord& sweep) {
  std::string text;
  for (size_t i : front_order(sweep.trade_offs()))
    text += (text.empty() ? "" : ", ") + sweep.variants[i].label;
  return text;
}

}  // namespace

std::string accuracy_name(const ExperimentConfig& c) {
  return "Top-" + std::to_string(c.k) + " accuracy";
}

std::string accuracy_scope(const ExperimentConfig& c) {
  if (!c.topk_min_rating) return "all test pairs";
  return "test pairs rated " + fixed(*c.topk_min_rating, 0) + " stars or more";
}

std::string rmse_name(const ExperimentConfig& c) {
  return c.label_transform == LabelTransform::kRaw ? "RMSE (stars)" : "RMSE ((rating \u2212 1) / 4)";
}

std::string format_accuracy(double v) { return fixed(v, 4); }

std::string format_rmse(const ExperimentConfig& c, double v) {
  return fixed(v, c.label_transform == LabelTransform::kRaw ? 3 : 4);
}

const std::string& variant_colour(size_t i) { return series_colour(i); }

ChartSpec pareto_chart(const SweepRecord& sweep, std::optional<size_t> chosen) {
  ChartSpec c = trade_off_chart(sweep, chosen, std::vector<bool>(sweep.variants.size(), true));
  c.id = "pareto";
  c.title = "All weight pairs";
  c.description = "Scatter plot of " + accuracy_name(sweep.config) + " against RMSE for " +
                  std::to_string(sweep.variants.size()) +
                  " models trained with different (ranking:retrieval) loss weights. Pareto front, "
                  "from lowest RMSE: " + front_text(sweep) + ".";
  return c;
}

std::optional<ChartSpec> pareto_closeup(const SweepRecord& sweep, std::optional<size_t> chosen) {
  double front_max = -1;
  for (const auto& v : sweep.variants)
    if (v.pareto) front_max = std::max(front_max, v.eval.rmse);
  if (front_max < 0) return std::nullopt;
  const double limit = front_max + 0.1 * std::abs(front_max);
  std::vector<bool> include;
  std::string left_out;
  for (const auto& v : sweep.variants) {
    include.push_back(v.eval.rmse <= limit);
    if (!include.back()) left_out += (left_out.empty() ? "" : ", ") + v.label;
  }
  if (left_out.empty()) return std::nullopt;
  ChartSpec c = trade_off_chart(sweep, chosen, include);
  c.id = "pareto-closeup";
  c.title = "Close-up on the front";
  c.description = "The same scatter plot without the pairs whose RMSE is more than 10% above the "
                  "front's largest (" + left_out + "). Pareto front, from lowest RMSE: " +
                  front_text(sweep) + ".";
  return c;
}

ChartSpec loss_chart(const SweepRecord& sweep, Task task) {
  const bool ranking = task == Task::kRanking;
  ChartSpec c;
  c.id = ranking ? "ranking-loss" : "retrieval-loss";
  c.title = ranking ? "Ranking loss (MSE) per epoch" : "Retrieval loss (in-batch softmax) per epoch";
  c.x_label = "Epoch";
  c.y_label = ranking ? "Mean MSE per batch" : "Mean softmax loss per batch";
  c.x_integer = true;
  c.width = 520;
  c.height = 360;
  std::string skipped;
  for (size_t i = 0; i < sweep.variants.size(); ++i) {
    const auto& v = sweep.variants[i];
    const float weight = ranking ? v.weights.ranking : v.weights.retrieval;
    if (weight == 0.0f) {
      skipped += (skipped.empty() ? "" : ", ") + v.label;
      continue;
    }
    Series s;
    s.name = v.label;
    s.colour = variant_colour(i);
    s.css_class = "variant";
    for (const auto& e : v.history) {
      const double loss = ranking ? e.ranking_loss : e.retrieval_loss;
      s.points.push_back({static_cast<double>(e.epoch), loss, "",
                          v.label + ", epoch " + std::to_string(e.epoch) + ": " + fixed(loss, 4)});
    }
    c.series.push_back(std::move(s));
  }
  c.description = std::string(ranking ? "Ranking" : "Retrieval") +
                  " training loss (unweighted, mean over the epoch's batches) for each weight pair "
                  "(ranking:retrieval) that trains it" +
                  (skipped.empty() ? "." : "; not computed for " + skipped + " (weight 0).");
  return c;
}

}  // namespace tandem::report
