// The SVG chart writer: nice ticks on hand-computed ranges, escaping, and the
// structure of a rendered chart (one element per series, point and label).
#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <set>

#include "tandem/core/error.h"
#include "tandem/report/axis.h"
#include "tandem/report/markup.h"
#include "tandem/report/svg_chart.h"

namespace tandem::report {
namespace {

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1)) ++n;
  return n;
}

void expect_ticks(const AxisScale& s, std::vector<double> expected, int decimals) {
  ASSERT_EQ(s.ticks.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(s.ticks[i], expected[i], 1e-12) << i;
  EXPECT_NEAR(s.lo, expected.front(), 1e-12);
  EXPECT_NEAR(s.hi, expected.back(), 1e-12);
  EXPECT_EQ(s.decimals, decimals);
}

TEST(Axis, NiceNumbers) {
  EXPECT_DOUBLE_EQ(nice_number(0.651, false), 1.0);  // 6.51 -> 10 (ceiling)
  EXPECT_DOUBLE_EQ(nice_number(0.651, true), 0.5);   // 6.51 -> 5 (nearest)
  EXPECT_DOUBLE_EQ(nice_number(0.0138, false), 0.02);
  EXPECT_DOUBLE_EQ(nice_number(125, true), 100);     // 1.25 < 1.5 -> 1
  EXPECT_DOUBLE_EQ(nice_number(0.25, true), 0.2);    // 2.5 < 3 -> 2
  EXPECT_DOUBLE_EQ(nice_number(495, false), 500);
  EXPECT_DOUBLE_EQ(nice_number(7.5, true), 10);
  EXPECT_DOUBLE_EQ(nice_number(1, false), 1);
  EXPECT_THROW(nice_number(0, true), Error);
}

TEST(Axis, TicksOnHandComputedRanges) {
  // range nice(1) = 1, step nice(0.25) = 0.2.
  expect_ticks(nice_scale(0, 1, 5), {0, 0.2, 0.4, 0.6, 0.8, 1.0}, 1);
  // Top-10 accuracies: range nice(0.0138) = 0.02, step nice(0.005) = 0.005,
  // floor(0.0044 / 0.005) = 0, ceil(0.0182 / 0.005) = 4.
  expect_ticks(nice_scale(0.0044, 0.0182, 5), {0, 0.005, 0.010, 0.015, 0.020}, 3);
  // RMSEs: range nice(0.651) = 1, step 0.2, from floor(1.235) * 0.2 to ceil(4.49) * 0.2.
  expect_ticks(nice_scale(0.247, 0.898, 5), {0.2, 0.4, 0.6, 0.8, 1.0}, 1);
  // Retrieval losses: range nice(495) = 500, step nice(125) = 100.
  expect_ticks(nice_scale(6278, 6773, 5), {6200, 6300, 6400, 6500, 6600, 6700, 6800}, 0);
  // Reversed bounds are the same axis.
  expect_ticks(nice_scale(1, 0, 5), {0, 0.2, 0.4, 0.6, 0.8, 1.0}, 1);
  // Negative ranges: range nice(3) = 5, step nice(1.25) = 1.
  expect_ticks(nice_scale(-2.5, 0.5, 5), {-3, -2, -1, 0, 1}, 0);
}

TEST(Axis, EmptyRangesAndIntegerSteps) {
  // A single value is widened by 10%: [2.7, 3.3], range 1, step 0.2.
  expect_ticks(nice_scale(3, 3, 5), {2.6, 2.8, 3.0, 3.2, 3.4}, 1);
  // Zero is widened by 1: [-1, 1], range 2, step 0.5.
  expect_ticks(nice_scale(0, 0, 5), {-1, -0.5, 0, 0.5, 1}, 1);
  // Epochs: whole steps only. One epoch: [0.9, 1.1] -> step 1, ticks 0..2.
  expect_ticks(nice_scale(1, 1, 5, true), {0, 1, 2}, 0);
  expect_ticks(nice_scale(1, 3, 5, true), {1, 2, 3}, 0);  // step 0.5 -> 1
  expect_ticks(nice_scale(1, 20, 5, true), {0, 5, 10, 15, 20}, 0);
  EXPECT_THROW(nice_scale(0, NAN), Error);
  EXPECT_THROW(nice_scale(0, 1, 1), Error);
}

TEST(Axis, LabelsHaveNoFloatNoiseOrNegativeZero) {
  const AxisScale s = nice_scale(-0.1, 0.3, 5);  // step 0.1
  std::vector<std::string> labels;
  for (double t : s.ticks) labels.push_back(s.label(t));
  EXPECT_EQ(labels, (std::vector<std::string>{"-0.1", "0.0", "0.1", "0.2", "0.3"}));
  EXPECT_EQ(fixed(-0.0001, 2), "0.00");
  EXPECT_EQ(fixed(NAN, 2), "n/a");
  EXPECT_EQ(fixed(2.345, 1), "2.3");
}

TEST(Markup, EscapesTextAndAttributes) {
  EXPECT_EQ(escape_xml("Tom & Jerry <\"best\"> 'ever'"),
            "Tom &amp; Jerry &lt;&quot;best&quot;&gt; &#39;ever&#39;");
  EXPECT_EQ(escape_xml("plain"), "plain");
  EXPECT_EQ(attr("data-x", "a\"b&c"), " data-x=\"a&quot;b&amp;c\"");
  EXPECT_EQ(attr("cx", 12.345), " cx=\"12.3\"");
}

ChartSpec two_series_chart() {
  ChartSpec c;
  c.id = "demo";
  c.title = "Loss <per> epoch & \"more\"";
  c.description = "Two series";
  c.x_label = "Epoch";
  c.y_label = "Loss";
  c.x_integer = true;
  Series a;
  a.name = "1:0.3 <a>";
  a.points = {{1, 3.0, "", "a1"}, {2, 2.0, "", "a2"}, {3, 1.5, "", "a3"}};
  Series b;
  b.name = "0:1";
  b.points = {{1, 2.5, "p&q", ""}, {2, NAN, "skipped", ""}, {3, 1.0, "r", ""}};
  b.label_points = true;
  b.line = false;
  b.hollow = true;
  c.series = {a, b};
  return c;
}

TEST(SvgChart, OneElementPerSeriesPointAndLabel) {
  const std::string svg = render_svg(two_series_chart());
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" data-chart=\"demo\"", 0), 0u);
  EXPECT_EQ(count(svg, "<svg"), 1u);
  EXPECT_EQ(count(svg, "</svg>"), 1u);
  // Accessible name and description, referenced by id.
  EXPECT_NE(svg.find("role=\"img\" aria-labelledby=\"demo-title demo-desc\""), std::string::npos);
  EXPECT_NE(svg.find("<title id=\"demo-title\">Loss &lt;per&gt; epoch &amp; &quot;more&quot;</title>"),
            std::string::npos);
  EXPECT_NE(svg.find("<desc id=\"demo-desc\">Two series</desc>"), std::string::npos);
  EXPECT_EQ(count(svg, "<g class=\"series"), 2u);
  EXPECT_EQ(count(svg, "class=\"series-line\""), 1u);  // b has no line
  EXPECT_EQ(count(svg, "<circle class=\"point\""), 5u);  // the NaN point is left out
  EXPECT_EQ(count(svg, "class=\"point-label\""), 2u);
  EXPECT_NE(svg.find(">p&amp;q</text>"), std::string::npos);
  EXPECT_NE(svg.find("<title>a2</title>"), std::string::npos);  // marker tooltips
  // Legend: both series, names escaped; the raw name never appears.
  EXPECT_NE(svg.find(">1:0.3 &lt;a&gt;</text>"), std::string::npos);
  EXPECT_EQ(svg.find("<a>"), std::string::npos);
  // Integer x ticks 1, 2, 3 and the axis titles.
  for (const char* t : {">1</text>", ">2</text>", ">3</text>", ">Epoch</text>", ">Loss</text>"})
    EXPECT_NE(svg.find(t), std::string::npos) << t;
  // The hollow series has a white fill, the other its colour.
  EXPECT_NE(svg.find("fill=\"#ffffff\" stroke=\"" + series_colour(1) + "\""), std::string::npos);
  EXPECT_NE(svg.find("fill=\"" + series_colour(0) + "\""), std::string::npos);
}

TEST(SvgChart, CloseLabelsDoNotShareAPosition) {
  ChartSpec c;
  c.id = "close";
  Series s;
  s.line = false;
  s.label_points = true;
  // Three nearly coincident points and one far away (to give the axes range).
  s.points = {{0.25, 0.0180, "1:1", ""},
              {0.2502, 0.0181, "1:0.3", ""},
              {0.2504, 0.0179, "1:0.1", ""},
              {0.9, 0.006, "0:1", ""}};
  c.series = {s};
  const std::string svg = render_svg(c);
  const std::regex label(R"re(<text class="point-label" x="([0-9.]+)" y="([0-9.]+)" text-anchor="(\w+)")re");
  std::set<std::string> positions;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), label); it != std::sregex_iterator(); ++it)
    positions.insert((*it)[1].str() + "," + (*it)[2].str() + "," + (*it)[3].str());
  EXPECT_EQ(positions.size(), 4u) << svg;
}

TEST(SvgChart, RefusesChartsWithNothingToDraw) {
  ChartSpec c;
  c.id = "nothing";
  EXPECT_THROW(render_svg(c), Error);
  Series s;
  s.points = {{NAN, 1.0, "", ""}};
  c.series = {s};
  EXPECT_THROW(render_svg(c), Error);
  // A single point is drawn (axes widened around it), without a line.
  c.series[0].points = {{1.0, 2.0, "only", ""}};
  const std::string svg = render_svg(c);
  EXPECT_EQ(count(svg, "<circle class=\"point\""), 1u);
  EXPECT_EQ(count(svg, "series-line"), 0u);
}

}  // namespace
}  // namespace tandem::report
