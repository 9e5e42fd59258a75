// The HTML report: built from a hand-made sweep record (structure, escaping,
// self-containment) and end to end from a real tiny sweep's run directory.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "support/tiny_movielens.h"
#include "tandem/experiment/sweep.h"
#include "tandem/report/html_report.h"
#include "tandem/report/report_input.h"
#include "tandem/report/sweep_charts.h"

namespace tandem::report {
namespace {

namespace fs = std::filesystem;

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1)) ++n;
  return n;
}

SweepVariant variant(float ranking, float retrieval, double acc, double rmse) {
  SweepVariant v;
  v.weights = {ranking, retrieval};
  v.label = weights_label(v.weights);
  v.model_file = "models/x.tandem";
  v.train_seconds = 1.5;
  v.eval.k = 10;
  v.eval.topk_accuracy = acc;
  v.eval.accuracy_at = {{1, acc / 4}, {5, acc / 2}, {10, acc}, {50, acc * 3}, {100, acc * 5}};
  v.eval.rmse = rmse;
  for (int e = 1; e <= 3; ++e) {
    EpochStats s;
    s.epoch = e;
    s.ranking_loss = ranking > 0 ? 0.1 / e : 0.0;
    s.retrieval_loss = retrieval > 0 ? 6000.0 - 100 * e : 0.0;
    v.history.push_back(s);
  }
  return v;
}

ReportInput hand_made_input() {
  ReportInput in;
  in.sweep.config = preset_config("kerasrs");
  in.sweep.complete = true;
  in.sweep.started_at = "2026-11-23T14:00:00Z";
  in.sweep.data_source = "/data/ml-100k (seeded split 80000/20000)";
  in.sweep.machine = {{"cpu", "Test CPU"}, {"cores", 2}, {"blas_core", "Haswell"}, {"host", "h"}};
  in.sweep.variants = {variant(0, 1, 0.0180, 0.87), variant(1, 1, 0.0178, 0.25), variant(1, 0, 0.006, 0.27)};
  in.sweep.update_pareto();
  in.source = "/runs/sweep";
  in.generated_at = "2026-11-23T15:00:00Z";
  in.chosen = in.sweep.balanced().value();
  UserSample u;
  u.user_id = 5;
  u.result.items = {{50, "Star Wars (1977)", 1.0f, 4.5f}, {99, "Tom & Jerry <\"Movie\">", 0.5f, 3.25f}};
  UserSample cold;
  cold.user_id = 99999;
  cold.result.cold_start = true;
  cold.result.items = {{50, "Star Wars (1977)", 583.0f, std::nullopt}};
  in.samples = {u, cold};
  return in;
}

TEST(HtmlReport, HasEverySectionAndChart) {
  const ReportInput in = hand_made_input();
  ASSERT_EQ(in.chosen, 1u);  // 1:1: best RMSE, accuracy within 0.0002 of the best
  const std::string html = render_report(in);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(count(html, "<svg"), 3u);
  for (const char* chart : {"data-chart=\"pareto\"", "data-chart=\"ranking-loss\"", "data-chart=\"retrieval-loss\""})
    EXPECT_EQ(count(html, chart), 1u) << chart;
  EXPECT_EQ(count(html, "<tr class=\"variant-row"), 3u);
  EXPECT_EQ(count(html, "<tr class=\"variant-row chosen\" data-weights=\"1:1\""), 1u);
  // Pareto chart: one marker per variant, 2 on the (connected) front.
  EXPECT_EQ(count(html, "<circle class=\"point\""), 3u + 2 * 3 + 2 * 3);  // + loss-chart markers
  EXPECT_NE(html.find("<g class=\"series front\" data-series=\"Pareto front\"><path class=\"series-line\""),
            std::string::npos);
  EXPECT_EQ(count(html, "class=\"choice-ring\""), 1u);
  // Loss charts: only variants that train the task (2 each, 3 epochs).
  EXPECT_EQ(count(html, "<g class=\"series variant\""), 4u);
  for (const char* id : {"trade-off", "metrics", "training", "recommendations", "setup"})
    EXPECT_NE(html.find(std::string("<section class=\"card\" id=\"") + id + "\""), std::string::npos) << id;
  EXPECT_NE(html.find("Test CPU"), std::string::npos);
  EXPECT_NE(html.find("ranking:retrieval"), std::string::npos);
}

// The ranking metrics get their own table when the sweep recorded them (and
// none in a sweep recorded before they existed).
TEST(HtmlReport, RankingMetricsTableWhenRecorded) {
  ReportInput in = hand_made_input();
  EXPECT_EQ(render_report(in).find("id=\"ranking\""), std::string::npos);
  for (auto& v : in.sweep.variants) {
    v.eval.recall_at = {{10, 0.1}, {100, 0.4}};
    v.eval.ndcg_at = {{10, 0.05}, {100, 0.2}};
    v.eval.map_at = {{10, 0.02}, {100, 0.03}};
    v.eval.mrr = 0.12;
    v.eval.ranking_users = 790;
    v.eval.auc_threshold = 4;
  }
  in.sweep.variants[1].eval.recall_at[100] = 0.45;
  in.sweep.variants[2].eval.auc = 0.7;  // the others' AUC is undefined (NaN)
  const std::string html = render_report(in);
  ASSERT_NE(html.find("id=\"ranking\""), std::string::npos);
  EXPECT_EQ(count(html, "<tr class=\"ranking-row"), 3u);
  EXPECT_EQ(count(html, "<tr class=\"variant-row"), 3u);  // the metrics table is unchanged
  EXPECT_EQ(count(html, "<td class=\"best\">0.4500</td>"), 1u);
  EXPECT_EQ(count(html, "<td class=\"best\">0.7000</td>"), 1u);
  EXPECT_EQ(count(html, "<td>\u2013</td>"), 2u);
  EXPECT_NE(html.find("averaged over 790 users"), std::string::npos);
  EXPECT_NE(html.find("rated at least 5.0 stars"), std::string::npos);  // kerasrs: 5-star pairs
}

TEST(HtmlReport, ExtraTasksAucIsAColumnAndAnObjective) {
  ReportInput in = hand_made_input();
  // Without extra tasks 1:0 (lower accuracy and higher RMSE than 1:1) is dominated.
  EXPECT_FALSE(in.sweep.variants[2].pareto);
  EXPECT_EQ(render_report(in).find("liked AUC"), std::string::npos);
  const double auc[] = {0.70, 0.72, 0.75};
  for (size_t i = 0; i < 3; ++i) {
    BinaryMetrics m;
    m.auc = auc[i];
    in.sweep.variants[i].eval.tasks = {{"liked", m}};
  }
  in.sweep.update_pareto();
  // Its liked AUC is the best: a further objective puts it on the front.
  EXPECT_TRUE(in.sweep.variants[2].pareto);
  const std::string html = render_report(in);
  EXPECT_NE(html.find("liked AUC<br>(higher is better)"), std::string::npos);
  EXPECT_EQ(count(html, "<td class=\"best\">0.7500</td>"), 1u);
  EXPECT_NE(html.find("a further objective"), std::string::npos);
}

TEST(HtmlReport, EscapesTitlesAndShowsColdStart) {
  const std::string html = render_report(hand_made_input());
  EXPECT_NE(html.find("<td class=\"title\">Tom &amp; Jerry &lt;&quot;Movie&quot;&gt;</td>"), std::string::npos);
  EXPECT_EQ(html.find("Jerry <\"Movie\">"), std::string::npos);
  EXPECT_NE(html.find("4.50 \u2605"), std::string::npos);
  EXPECT_NE(html.find("data-user=\"99999\""), std::string::npos);
  EXPECT_NE(html.find("Not in the model"), std::string::npos);
  EXPECT_NE(html.find(">583</td>"), std::string::npos);
}

TEST(HtmlReport, IsSelfContained) {
  const std::string html = render_report(hand_made_input());
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  // The only URL is the SVG namespace name, which is never fetched.
  const std::regex url("https?://");
  const std::string without_ns =
      std::regex_replace(html, std::regex("xmlns=\"http://www.w3.org/2000/svg\""), "");
  EXPECT_FALSE(std::regex_search(without_ns, url));
}

TEST(HtmlReport, ATaskNoVariantTrainsGetsANoteInsteadOfAChart) {
  ReportInput in = hand_made_input();
  in.sweep.variants = {variant(0, 1, 0.018, 0.9), variant(0, 2, 0.019, 0.95)};
  in.sweep.update_pareto();
  in.chosen = 0;
  const std::string html = render_report(in);
  EXPECT_EQ(count(html, "<svg"), 2u);
  EXPECT_NE(html.find("<figure class=\"empty\" data-chart=\"ranking-loss\">"), std::string::npos);
}

TEST(HtmlReport, FromARealSweepRunDirectory) {
  const fs::path dir = fs::temp_directory_path() / ("tandem_report_" + std::to_string(::getpid()));
  testing::write_tiny_movielens(dir / "data");
  const ExperimentConfig c = testing::tiny_config("kerasrs", dir / "data");
  const SweepRecord rec = run_sweep(c, parse_weight_pairs("0:1,1:1,1:0"), (dir / "run").string());
  ReportOptions options;
  options.samples.users = {1, 2, 4242};
  options.samples.k = 3;
  options.samples.candidates = 10;
  const ReportInput in = collect_report_input((dir / "run").string(), options);
  EXPECT_EQ(in.chosen, rec.balanced().value());
  ASSERT_EQ(in.samples.size(), 3u);
  EXPECT_EQ(in.samples[0].result.items.size(), 3u);
  EXPECT_FALSE(in.samples[0].result.cold_start);
  EXPECT_TRUE(in.samples[2].result.cold_start);  // user 4242 is not in the data
  // Tiny titles are "Movie N (199x)"; seen movies are left out by default.
  EXPECT_EQ(in.samples[0].result.items[0].title.rfind("Movie ", 0), 0u);

  options.variant = "1:0";
  const ReportInput chosen = collect_report_input((dir / "run").string(), options);
  EXPECT_EQ(chosen.chosen, 2u);
  EXPECT_TRUE(chosen.chosen_by_user);

  const std::string path = (dir / "report.html").string();
  write_report(path, render_report(in));
  std::ifstream f(path);
  const std::string html((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  // Three charts, and the close-up when a pair lies far off on RMSE.
  EXPECT_EQ(count(html, "<svg"), pareto_closeup(in.sweep, in.chosen) ? 4u : 3u);
  EXPECT_EQ(count(html, "<tr class=\"variant-row"), 3u);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tandem::report
