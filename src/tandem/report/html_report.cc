#include "tandem/report/html_report.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "tandem/core/error.h"
#include "tandem/report/markup.h"
#include "tandem/report/svg_chart.h"
#include "tandem/report/sweep_charts.h"

namespace tandem::report {

namespace {

// Inline, so the page needs nothing but itself. Sized for a 1200 px window:
// the Pareto chart spans the column, the two loss charts sit side by side.
constexpr const char* kStyle = R"css(
:root { --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; --accent: #d1495b; --bg: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "Liberation Sans", Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 28px 24px 40px; }
header { margin-bottom: 18px; }
.eyebrow { margin: 0; color: var(--accent); font-size: 13px; font-weight: 600; letter-spacing: .06em;
  text-transform: uppercase; }
h1 { margin: 4px 0 6px; font-size: 28px; line-height: 1.2; }
h2 { margin: 0 0 6px; font-size: 19px; }
h3 { margin: 0 0 8px; font-size: 15px; }
.lede { margin: 0; color: var(--muted); max-width: 860px; }
.tiles { display: grid; grid-template-columns: repeat(4, 1fr); gap: 14px; margin-bottom: 18px; }
.tile { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
.tile .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .05em; }
.tile .v { font-size: 24px; font-weight: 650; line-height: 1.3; }
.tile .s { color: var(--muted); font-size: 13px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 18px 22px;
  margin-bottom: 18px; }
.note { margin: 0 0 12px; color: var(--muted); font-size: 14px; max-width: 900px; }
figure { margin: 0; }
svg.chart { display: block; max-width: 100%; height: auto; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.empty { border: 1px dashed var(--line); border-radius: 6px; padding: 24px; color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { color: var(--muted); font-size: 12px; font-weight: 600; text-transform: uppercase; letter-spacing: .03em; }
th.group { text-align: center; border-bottom: 1px solid #cbd2d9; }
td.text, th.text { text-align: left; }
td.primary { font-weight: 600; }
td.best { color: #0b6e4f; font-weight: 700; }
tr.chosen td { background: #fdf2f3; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 8px;
  vertical-align: 0; }
.badge { display: inline-block; margin-left: 8px; padding: 0 8px; border-radius: 10px; font-size: 12px;
  font-weight: 600; background: #e3f2e8; color: #1e6b3a; }
.badge.choice { background: #fde8eb; color: #a3283a; }
.users { display: grid; grid-template-columns: repeat(3, 1fr); gap: 14px; }
.user { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.user table td, .user table th { padding: 5px 6px; }
.user table { font-size: 14px; }
.user td.title { white-space: normal; text-align: left; }
.stars { display: inline-flex; align-items: center; gap: 6px; }
.bar { display: inline-block; width: 36px; height: 6px; background: var(--line); border-radius: 3px;
  overflow: hidden; }
.bar span { display: block; height: 100%; background: #f2a541; }
dl { display: grid; grid-template-columns: 200px 1fr; gap: 4px 16px; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; }
footer { color: var(--muted); font-size: 13px; text-align: center; margin-top: 8px; }
)css";

std::string seconds_text(double s) {
  return s < 100 ? fixed(s, 1) + " s" : fixed(s / 60.0, 1) + " min";
}

std::string figure(const ChartSpec& spec) {
  const bool empty = std::none_of(spec.series.begin(), spec.series.end(),
                                  [](const Series& s) { return !s.points.empty(); });
  if (empty)
    return "<figure class=\"empty\"" + attr("data-chart", spec.id) + "><strong>" + escape_xml(spec.title) +
           "</strong><br>" + escape_xml(spec.description) + "</figure>";
  return "<figure>" + render_svg(spec) + "</figure>";
}

std::string catalogue_text(const SweepRecord& s) {
  if (!s.data.contains("catalogue_items")) return "the whole catalogue";
  return "the whole catalogue of " + s.data["catalogue_items"].dump() + " movies";
}

void write_header(std::ostringstream& o, const ReportInput& in) {
  const auto& s = in.sweep;
  o << "<header><p class=\"eyebrow\">Tandem \u00b7 loss-weight sweep</p>"
    << "<h1>Retrieval against ranking: " << s.variants.size() << " weightings of one model</h1>"
    << "<p class=\"lede\">Each model was trained on the same split with the total loss "
    << "<em>ranking weight \u00d7 MSE + retrieval weight \u00d7 in-batch softmax</em>; weight pairs "
    << "are written <strong>ranking:retrieval</strong>. Preset <strong>" << escape_xml(s.config.preset)
    << "</strong>, " << escape_xml(accuracy_name(s.config)) << " on " << escape_xml(accuracy_scope(s.config))
    << ", " << escape_xml(rmse_name(s.config)) << ".";
  if (!s.complete)
    o << " <strong>The sweep did not finish:</strong> only the variants trained so far are shown.";
  o << "</p></header>";
}

void write_tiles(std::ostringstream& o, const ReportInput& in) {
  const auto& s = in.sweep;
  const auto front = std::count_if(s.variants.begin(), s.variants.end(),
                                   [](const SweepVariant& v) { return v.pareto; });
  double train = 0;
  for (const auto& v : s.variants) train += v.train_seconds;
  const auto& c = s.variants[in.chosen];
  auto tile = [&](const std::string& k, const std::string& v, const std::string& sub) {
    o << "<div class=\"tile\"><div class=\"k\">" << escape_xml(k) << "</div><div class=\"v\">"
      << escape_xml(v) << "</div><div class=\"s\">" << escape_xml(sub) << "</div></div>";
  };
  o << "<section class=\"tiles\" aria-label=\"Summary\">";
  tile("Weight pairs", std::to_string(s.variants.size()), s.complete ? "models trained" : "sweep interrupted");
  tile("Pareto front", std::to_string(front) + " of " + std::to_string(s.variants.size()),
       "not dominated on accuracy and RMSE");
  tile(in.chosen_by_user ? "Chosen model" : "Balanced model", c.label,
       "top-" + std::to_string(s.config.k) + " " + format_accuracy(c.eval.topk_accuracy) + " \u00b7 RMSE " +
           format_rmse(s.config, c.eval.rmse));
  tile("Training time", seconds_text(train), "sweep wall time " + seconds_text(s.seconds));
  o << "</section>";
}

void write_pareto(std::ostringstream& o, const ReportInput& in) {
  const auto& s = in.sweep;
  o << "<section class=\"card\" id=\"trade-off\"><h2>Accuracy against RMSE</h2>"
    << "<p class=\"note\">One point per weight pair. A pair is on the <strong>Pareto front</strong> when no "
       "other pair is at least as good on both metrics and better on one (higher "
    << escape_xml(accuracy_name(s.config)) << ", lower RMSE): up and to the left is better. The front "
       "is connected in order of RMSE; the ring marks the model of the sample recommendations.";
  if (!s.variants.front().eval.tasks.empty())
    o << " With extra tasks each one's AUC is a further objective (higher is better), so a front "
         "point may sit inside the accuracy/RMSE curve: it wins on an extra task (see the metrics table).";
  o << "</p>";
  ChartSpec all = pareto_chart(s, in.chosen);
  if (const auto closeup = pareto_closeup(s, in.chosen)) {
    o << "<div class=\"pair\">" << figure(all) << figure(*closeup) << "</div>";
  } else {
    all.width = 1000;
    all.height = 440;
    all.legend = LegendPlacement::kRight;
    o << figure(all);
  }
  o << "</section>";
}

void write_metrics(std::ostringstream& o, const ReportInput& in) {
  const auto& s = in.sweep;
  std::vector<int64_t> ks;
  for (const auto& [k, acc] : s.variants.front().eval.accuracy_at) ks.push_back(k);
  // Best value per column, to highlight it.
  std::vector<double> best_acc(ks.size(), -1.0);
  double best_rmse = std::numeric_limits<double>::infinity();
  for (const auto& v : s.variants) {
    for (size_t i = 0; i < ks.size(); ++i) {
      const auto it = v.eval.accuracy_at.find(ks[i]);
      if (it != v.eval.accuracy_at.end()) best_acc[i] = std::max(best_acc[i], it->second);
    }
    best_rmse = std::min(best_rmse, v.eval.rmse);
  }
  o << "<section class=\"card\" id=\"metrics\"><h2>Metrics per weight pair</h2>"
    << "<p class=\"note\">Top-k accuracy: share of " << escape_xml(accuracy_scope(s.config))
    << " whose movie is among the k highest-scoring of " << escape_xml(catalogue_text(s))
    << " (the preset's k in bold). " << escape_xml(rmse_name(s.config))
    << " of the rating head on all test pairs. The best value of each column is green.</p>"
    << "<table><thead><tr><th class=\"text\" rowspan=\"2\" scope=\"col\">Weights<br>(ranking:retrieval)</th>"
    << "<th class=\"group\" colspan=\"" << ks.size() << "\" scope=\"colgroup\">Top-k accuracy (higher is better)</th>"
    << "<th rowspan=\"2\" scope=\"col\">RMSE<br>(lower is better)</th>";
  // Each extra task's AUC, a further objective of the front.
  const auto& extra = s.variants.front().eval.tasks;
  std::vector<double> best_auc(extra.size(), -1.0);
  for (const auto& v : s.variants)
    for (size_t t = 0; t < v.eval.tasks.size() && t < best_auc.size(); ++t)
      if (std::isfinite(v.eval.tasks[t].second.auc)) best_auc[t] = std::max(best_auc[t], v.eval.tasks[t].second.auc);
  for (const auto& task : extra)
    o << "<th rowspan=\"2\" scope=\"col\">" << escape_xml(task.first) << " AUC<br>(higher is better)</th>";
  o << "<th rowspan=\"2\" scope=\"col\">Train (s)</th>"
    << "<th class=\"text\" rowspan=\"2\" scope=\"col\">Pareto</th></tr><tr>";
  for (int64_t k : ks) o << "<th scope=\"col\">k = " << k << "</th>";
  o << "</tr></thead><tbody>";
  for (size_t i = 0; i < s.variants.size(); ++i) {
    const auto& v = s.variants[i];
    o << "<tr" << attr("class", i == in.chosen ? "variant-row chosen" : "variant-row")
      << attr("data-weights", v.label) << "><td class=\"text\"><span class=\"swatch\""
      << attr("style", "background:" + variant_colour(i)) << "></span>" << escape_xml(v.label);
    if (i == in.chosen)
      o << "<span class=\"badge choice\">" << (in.chosen_by_user ? "chosen" : "balanced") << "</span>";
    o << "</td>";
    for (size_t j = 0; j < ks.size(); ++j) {
      const auto it = v.eval.accuracy_at.find(ks[j]);
      const double acc = it == v.eval.accuracy_at.end() ? std::numeric_limits<double>::quiet_NaN() : it->second;
      std::string cls = ks[j] == s.config.k ? "primary" : "";
      if (acc == best_acc[j]) cls += cls.empty() ? "best" : " best";
      o << "<td" << (cls.empty() ? "" : attr("class", cls)) << ">" << format_accuracy(acc) << "</td>";
    }
    o << "<td" << (v.eval.rmse == best_rmse ? " class=\"best\"" : "") << ">"
      << format_rmse(s.config, v.eval.rmse) << "</td>";
    for (size_t t = 0; t < best_auc.size(); ++t) {
      const double auc = t < v.eval.tasks.size() ? v.eval.tasks[t].second.auc : std::nan("");
      o << "<td" << (auc == best_auc[t] ? " class=\"best\"" : "") << ">" << fixed(auc, 4) << "</td>";
    }
    o << "<td>" << fixed(v.train_seconds, 1) << "</td>"
      << "<td class=\"text\">" << (v.pareto ? "<span class=\"badge\">front</span>" : "dominated")
      << "</td></tr>";
  }
  o << "</tbody></table></section>";
}

// The per-user ranking metrics and AUC (absent from sweeps recorded before
// they existed: then no section).
void write_ranking(std::ostringstream& o, const ReportInput& in) {
  const auto& s = in.sweep;
  std::vector<int64_t> ks;
  for (const auto& [k, v] : s.variants.front().eval.recall_at) ks.push_back(k);
  if (ks.empty()) return;
  auto value = [](const std::map<int64_t, double>& m, int64_t k) {
    const auto it = m.find(k);
    return it == m.end() ? std::numeric_limits<double>::quiet_NaN() : it->second;
  };
  // Columns: Recall, NDCG, MAP at each k, then MRR and AUC; all higher is better.
  auto columns = [&](const EvalResult& e) {
    std::vector<double> c;
    for (const auto* m : {&e.recall_at, &e.ndcg_at, &e.map_at})
      for (int64_t k : ks) c.push_back(value(*m, k));
    c.push_back(e.mrr);
    c.push_back(e.auc);
    return c;
  };
  std::vector<double> best(3 * ks.size() + 2, -1.0);
  for (const auto& v : s.variants) {
    const auto c = columns(v.eval);
    for (size_t i = 0; i < c.size(); ++i)
      if (!std::isnan(c[i])) best[i] = std::max(best[i], c[i]);
  }
  const auto& e = s.variants.front().eval;
  o << "<section class=\"card\" id=\"ranking\"><h2>Ranking metrics per weight pair</h2>"
    << "<p class=\"note\">Per test user, over " << escape_xml(catalogue_text(s))
    << (e.exclude_seen ? " without the user's training items" : "") << ": recall, NDCG and MAP of the "
    << "user's test items" << (s.config.topk_min_rating ? " rated at least " + fixed(*s.config.topk_min_rating, 1) + " stars" : "")
    << " in the top k, and the reciprocal rank of the best one, averaged over " << e.ranking_users
    << " users. AUC: the rating head's predictions on the test pairs against rating \u2265 "
    << fixed(e.auc_threshold, 1) << " stars. Higher is better; the best value of each column is green.</p>"
    << "<table><thead><tr><th class=\"text\" rowspan=\"2\" scope=\"col\">Weights<br>(ranking:retrieval)</th>";
  for (const char* name : {"Recall", "NDCG", "MAP"})
    o << "<th class=\"group\" colspan=\"" << ks.size() << "\" scope=\"colgroup\">" << name << "</th>";
  o << "<th rowspan=\"2\" scope=\"col\">MRR</th><th rowspan=\"2\" scope=\"col\">AUC</th></tr><tr>";
  for (int g = 0; g < 3; ++g)
    for (int64_t k : ks) o << "<th scope=\"col\">k = " << k << "</th>";
  o << "</tr></thead><tbody>";
  for (size_t i = 0; i < s.variants.size(); ++i) {
    const auto& v = s.variants[i];
    o << "<tr" << attr("class", i == in.chosen ? "ranking-row chosen" : "ranking-row")
      << attr("data-weights", v.label) << "><td class=\"text\"><span class=\"swatch\""
      << attr("style", "background:" + variant_colour(i)) << "></span>" << escape_xml(v.label) << "</td>";
    const auto c = columns(v.eval);
    for (size_t j = 0; j < c.size(); ++j)
      o << "<td" << (c[j] == best[j] ? " class=\"best\"" : "") << ">"
        << (std::isnan(c[j]) ? std::string("\u2013") : fixed(c[j], 4)) << "</td>";
    o << "</tr>";
  }
  o << "</tbody></table></section>";
}

void write_training(std::ostringstream& o, const ReportInput& in) {
  const auto& s = in.sweep;
  o << "<section class=\"card\" id=\"training\"><h2>Training curves</h2>"
    << "<p class=\"note\">Each task's own loss, unweighted, averaged over the epoch's batches "
    << "(batches of " << s.config.batch_size << "; the retrieval loss is summed over a batch, as in the "
    << "tutorials). A weight of 0 skips a task's loss, so that pair has no curve for it.</p>"
    << "<div class=\"pair\">" << figure(loss_chart(s, Task::kRanking))
    << figure(loss_chart(s, Task::kRetrieval)) << "</div></section>";
}

void write_samples(std::ostringstream& o, const ReportInput& in) {
  const auto& s = in.sweep;
  const auto& chosen = s.variants[in.chosen];
  const auto& so = in.sample_options;
  o << "<section class=\"card\" id=\"recommendations\"><h2>Sample recommendations</h2>"
    << "<p class=\"note\">From the model with weights <strong>" << escape_xml(chosen.label) << "</strong> "
    << (in.chosen_by_user ? "(chosen for this report)"
                          : "(the balanced model: the Pareto-front pair closest to the sweep's best "
                            "accuracy and best RMSE, both scaled to 0\u20131)")
    << ". Each list: " << so.candidates << " candidates retrieved over " << escape_xml(catalogue_text(s))
    << (so.exclude_seen ? ", the user's rated movies left out" : "")
    << ", the top " << so.k << " by the rating head's predicted stars (the path of "
    << "<code>tandem recommend</code> and the server).</p><div class=\"users\">";
  for (const auto& u : in.samples) {
    o << "<div class=\"user\"" << attr("data-user", std::to_string(u.user_id)) << "><h3>User " << u.user_id
      << "</h3>";
    if (u.result.cold_start)
      o << "<p class=\"note\">Not in the model: the most rated movies in training.</p>";
    o << "<table class=\"recs\"><thead><tr><th scope=\"col\">#</th><th class=\"text\" scope=\"col\">Movie</th>"
      << "<th scope=\"col\">" << (u.result.cold_start ? "Ratings" : "Predicted") << "</th></tr></thead><tbody>";
    int rank = 0;
    for (const auto& item : u.result.items) {
      o << "<tr><td>" << ++rank << "</td><td class=\"title\">" << escape_xml(item.title) << "</td><td>";
      if (item.predicted_rating) {
        const double stars = *item.predicted_rating;
        const double fill = std::clamp((stars - 1.0) / 4.0, 0.0, 1.0) * 100.0;
        o << "<span class=\"stars\"" << attr("aria-label", fixed(stars, 2) + " stars predicted") << ">"
          << fixed(stars, 2) << " \u2605<span class=\"bar\" aria-hidden=\"true\"><span"
          << attr("style", "width:" + fixed(fill, 0) + "%") << "></span></span></span>";
      } else if (item.ranking_value) {
        // A head trained with another ranking loss (ranking_output.h): its
        // probability or score, not stars.
        o << fixed(*item.ranking_value, 3);
      } else {
        o << fixed(item.score, 0);
      }
      o << "</td></tr>";
    }
    o << "</tbody></table></div>";
  }
  o << "</div></section>";
}

void write_setup(std::ostringstream& o, const ReportInput& in) {
  const auto& s = in.sweep;
  const auto& c = s.config;
  auto row = [&](const std::string& k, const std::string& v) {
    o << "<dt>" << escape_xml(k) << "</dt><dd>" << escape_xml(v) << "</dd>";
  };
  auto json_text = [](const nlohmann::json& j, const char* key) {
    if (!j.contains(key)) return std::string("not recorded");
    return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
  };
  std::string layers;
  for (int64_t l : c.layer_sizes) {
    if (!layers.empty()) layers += '-';
    layers += std::to_string(l);
  }
  o << "<section class=\"card\" id=\"setup\"><h2>Setup</h2><dl>";
  row("Data", s.data_source.empty() ? "not recorded" : s.data_source);
  if (s.data.contains("train_pairs"))
    row("Split", json_text(s.data, "train_pairs") + " training / " + json_text(s.data, "test_pairs") +
                     " test pairs, seed " + std::to_string(c.seed));
  row("Model", "embeddings of dimension " + std::to_string(c.embedding_dim) + ", rating head " + layers +
                   "-1");
  row("Training", std::to_string(c.epochs) + " epochs, batches of " + std::to_string(c.batch_size) +
                      ", " + display_name(c.optimizer.kind) + " with learning rate " +
                      fixed(c.optimizer.learning_rate, 3) +
                      (c.shuffle == ShuffleMode::kEveryEpoch ? ", reshuffled every epoch"
                       : c.shuffle == ShuffleMode::kOnce ? ", one shuffled order every epoch"
                                                         : ", fixed batch order"));
  row("Machine", s.machine.empty() ? "not recorded"
                                   : json_text(s.machine, "cpu") + ", " + json_text(s.machine, "cores") +
                                         " hardware threads, OpenBLAS " + json_text(s.machine, "blas_core") +
                                         " kernels (host " + json_text(s.machine, "host") + ")");
  row("Started", s.started_at.empty() ? "not recorded" : s.started_at);
  row("Source", in.source);
  o << "</dl></section>";
}

}  // namespace

std::string render_report(const ReportInput& in) {
  TANDEM_CHECK(!in.sweep.variants.empty(), in.source << ": the sweep has no trained variant yet");
  TANDEM_CHECK(in.chosen < in.sweep.variants.size(), "chosen variant " << in.chosen << " out of range");
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    << "<title>Tandem sweep report \u2014 " << escape_xml(in.sweep.config.preset) << ", "
    << in.sweep.variants.size() << " weight pairs</title><style>" << kStyle << "</style></head><body><main>";
  write_header(o, in);
  write_tiles(o, in);
  write_pareto(o, in);
  write_metrics(o, in);
  write_training(o, in);
  write_ranking(o, in);
  write_samples(o, in);
  write_setup(o, in);
  o << "<footer>Generated by <code>tandem report</code> at " << escape_xml(in.generated_at)
    << ". This page is self-contained: no scripts, no external resources.</footer></main></body></html>\n";
  return o.str();
}

}  // namespace tandem::report
