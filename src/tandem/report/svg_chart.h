// A small SVG chart writer for the report: one x/y plot with nice-tick axes,
// grid, axis titles, any number of series (lines and/or markers), optional
// point labels placed so they do not overlap, and a legend. The output is a
// standalone <svg> element (inline in HTML or saved as a file), with a
// <title> and <desc> referenced by aria-labelledby for screen readers, and a
// <title> tooltip on every marker. All text is escaped.
//
// Class names are a stable interface (tests and CSS use them):
//   svg.chart[data-chart=ID]  g.series[data-series=NAME]  path.series-line
//   circle.<marker_class> (default "point")  text.point-label  g.legend
#pragma once

#include <string>
#include <vector>

namespace tandem::report {

struct ChartPoint {
  double x = 0.0, y = 0.0;
  std::string label;    // written beside the marker when the series labels points
  std::string tooltip;  // the marker's <title>; the label when empty
};

struct Series {
  std::string name;  // legend entry; empty: not in the legend
  std::vector<ChartPoint> points;
  std::string colour;        // CSS colour; empty: series_colour(index)
  bool line = true;          // connect the points in the given order
  bool dashed = false;
  double marker_radius = 3.5;  // 0: no markers
  bool hollow = false;         // outlined markers with a white fill
  bool label_points = false;
  std::string css_class;              // added to the series' <g>
  std::string marker_class = "point";
};

enum class LegendPlacement { kRight, kBelow };

struct ChartSpec {
  std::string id;           // unique in the page: element ids and data-chart
  std::string title;        // drawn at the top, and the accessible name
  std::string description;  // accessible description (<desc>)
  std::string x_label, y_label;
  std::vector<Series> series;
  int width = 640, height = 380;
  bool x_integer = false, y_integer = false;  // whole-number ticks
  // Right: one entry per line beside the plot (long lists). Below: one row
  // under the x-axis title (few entries, narrow charts).
  LegendPlacement legend = LegendPlacement::kRight;
};

// The i-th colour of a palette of 10 that stays distinguishable for the
// common colour-vision deficiencies (Tableau 10); wraps around.
const std::string& series_colour(size_t i);

// Throws tandem::Error when the chart has no finite point to show.
std::string render_svg(const ChartSpec& spec);

}  // namespace tandem::report
