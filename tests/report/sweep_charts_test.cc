// The report's charts built from a sweep record: which variants each chart
// shows, the front's order, the close-up's cut and the skipped loss curves.
#include <gtest/gtest.h>

#include "tandem/report/sweep_charts.h"

namespace tandem::report {
namespace {

SweepVariant variant(float ranking, float retrieval, double acc, double rmse) {
  SweepVariant v;
  v.weights = {ranking, retrieval};
  v.label = weights_label(v.weights);
  v.eval.topk_accuracy = acc;
  v.eval.rmse = rmse;
  for (int e = 1; e <= 2; ++e) {
    EpochStats s;
    s.epoch = e;
    s.ranking_loss = ranking > 0 ? 0.1 : 0.0;
    s.retrieval_loss = retrieval > 0 ? 6000.0 : 0.0;
    v.history.push_back(s);
  }
  return v;
}

// Like the kerasrs sweep: retrieval-only far off on RMSE and dominated.
SweepRecord sweep() {
  SweepRecord s;
  s.config = preset_config("kerasrs");
  s.variants = {variant(0, 1, 0.0176, 0.82), variant(1, 1, 0.0176, 0.2502), variant(1, 0.3f, 0.0289, 0.2513),
                variant(1, 0.1f, 0.0427, 0.2538), variant(1, 0, 0.0077, 0.2647)};
  s.update_pareto();
  return s;
}

const Series& series(const ChartSpec& c, const std::string& name) {
  for (const auto& s : c.series)
    if (s.name == name) return s;
  throw std::runtime_error("no series " + name);
}

std::vector<std::string> labels(const Series& s) {
  std::vector<std::string> out;
  for (const auto& p : s.points) out.push_back(p.label);
  return out;
}

TEST(SweepCharts, ParetoChartShowsEveryVariantOnce) {
  const SweepRecord s = sweep();
  const ChartSpec c = pareto_chart(s, 3);
  EXPECT_EQ(c.id, "pareto");
  EXPECT_EQ(labels(series(c, "Pareto front")), (std::vector<std::string>{"1:1", "1:0.3", "1:0.1"}));
  EXPECT_TRUE(series(c, "Pareto front").line);
  EXPECT_EQ(labels(series(c, "Dominated")), (std::vector<std::string>{"0:1", "1:0"}));
  EXPECT_FALSE(series(c, "Dominated").line);
  const Series& ring = series(c, "Recommendations");
  ASSERT_EQ(ring.points.size(), 1u);
  EXPECT_DOUBLE_EQ(ring.points[0].y, 0.0427);
  EXPECT_EQ(ring.marker_class, "choice-ring");
  // x is RMSE, y accuracy.
  EXPECT_DOUBLE_EQ(series(c, "Pareto front").points[0].x, 0.2502);
  EXPECT_NE(c.description.find("from lowest RMSE: 1:1, 1:0.3, 1:0.1"), std::string::npos);
  EXPECT_NE(render_svg(c).find("aria-labelledby=\"pareto-title pareto-desc\""), std::string::npos);
}

TEST(SweepCharts, CloseUpLeavesOutPairsFarOffOnRmse) {
  const SweepRecord s = sweep();
  const auto c = pareto_closeup(s, 3);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->id, "pareto-closeup");
  // The front reaches RMSE 0.2538: the cut is 0.2792, which leaves out 0:1.
  EXPECT_EQ(labels(series(*c, "Dominated")), (std::vector<std::string>{"1:0"}));
  EXPECT_EQ(labels(series(*c, "Pareto front")).size(), 3u);
  EXPECT_NE(c->description.find("(0:1)"), std::string::npos);
  // Nothing to leave out, no close-up.
  SweepRecord near = s;
  near.variants.erase(near.variants.begin());
  EXPECT_FALSE(pareto_closeup(near, std::nullopt).has_value());
}

TEST(SweepCharts, LossChartsSkipVariantsThatDoNotTrainTheTask) {
  const SweepRecord s = sweep();
  const ChartSpec ranking = loss_chart(s, Task::kRanking);
  const ChartSpec retrieval = loss_chart(s, Task::kRetrieval);
  EXPECT_EQ(ranking.id, "ranking-loss");
  ASSERT_EQ(ranking.series.size(), 4u);  // all but 0:1
  EXPECT_EQ(ranking.series[0].name, "1:1");
  // Colours follow the variant, not the position in the chart.
  EXPECT_EQ(ranking.series[0].colour, variant_colour(1));
  ASSERT_EQ(retrieval.series.size(), 4u);  // all but 1:0
  EXPECT_EQ(retrieval.series[0].colour, variant_colour(0));
  EXPECT_EQ(retrieval.series[0].points.size(), 2u);
  EXPECT_DOUBLE_EQ(retrieval.series[0].points[1].x, 2.0);
  EXPECT_NE(ranking.description.find("not computed for 0:1 (weight 0)"), std::string::npos);
}

TEST(SweepCharts, MetricNamesFollowThePreset) {
  const auto k = preset_config("kerasrs");
  const auto t = preset_config("tfrs");
  EXPECT_EQ(accuracy_name(k), "Top-10 accuracy");
  EXPECT_EQ(accuracy_name(t), "Top-100 accuracy");
  EXPECT_EQ(accuracy_scope(k), "test pairs rated 5 stars or more");
  EXPECT_EQ(accuracy_scope(t), "all test pairs");
  EXPECT_EQ(rmse_name(t), "RMSE (stars)");
  EXPECT_EQ(format_rmse(k, 0.25024), "0.2502");
  EXPECT_EQ(format_rmse(t, 1.1134), "1.113");
}

}  // namespace
}  // namespace tandem::report
