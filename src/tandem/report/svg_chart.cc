#include "tandem/report/svg_chart.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <sstream>

#include "tandem/core/error.h"
#include "tandem/report/axis.h"
#include "tandem/report/markup.h"

namespace tandem::report {

namespace {

constexpr double kPad = 16;             // around the whole chart
constexpr double kTitleBand = 44;       // chart title above the plot
constexpr double kAxisTitleBand = 20;   // y-axis title left of the tick labels
constexpr double kBottomBand = 50;      // x tick labels and x-axis title
constexpr double kLegendRow = 24;       // a legend below the plot
constexpr double kTickFont = 11, kLabelFont = 11, kLegendFont = 12;
// Text widths are estimated, not measured (no font metrics here): a generous
// average advance for sans-serif digits and letters.
constexpr double kCharWidth = 0.62;
constexpr double kDataPadding = 0.04;  // of the data range, each side of continuous axes

double text_width(const std::string& s, double font) {
  return static_cast<double>(s.size()) * font * kCharWidth;
}

struct Box {
  double x0, y0, x1, y1;
  double overlap(const Box& o) const {
    const double w = std::min(x1, o.x1) - std::max(x0, o.x0);
    const double h = std::min(y1, o.y1) - std::max(y0, o.y0);
    return w > 0 && h > 0 ? w * h : 0.0;
  }
  bool inside(const Box& o) const { return x0 >= o.x0 && x1 <= o.x1 && y0 >= o.y0 && y1 <= o.y1; }
};

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
};

AxisScale axis_for(Range r, bool integer) {
  if (!integer && r.hi > r.lo) {
    const double pad = (r.hi - r.lo) * kDataPadding;
    r.lo -= pad;
    r.hi += pad;
  }
  return nice_scale(r.lo, r.hi, 6, integer);
}

// Swatch, gap, text and the space before the next entry of a legend row.
double legend_entry_width(const std::string& name) { return 30 + text_width(name, kLegendFont) + 16; }

bool finite(const ChartPoint& p) { return std::isfinite(p.x) && std::isfinite(p.y); }

// Where everything goes: the plot frame and the mapping from data to pixels.
struct Layout {
  AxisScale xs, ys;
  Box plot{};
  double legend_x = 0, legend_y = 0;  // first entry's swatch
  double x(double v) const { return plot.x0 + xs.fraction(v) * (plot.x1 - plot.x0); }
  double y(double v) const { return plot.y1 - ys.fraction(v) * (plot.y1 - plot.y0); }
};

Layout layout(const ChartSpec& spec) {
  Range xr, yr;
  for (const auto& s : spec.series)
    for (const auto& p : s.points)
      if (finite(p)) {
        xr.add(p.x);
        yr.add(p.y);
      }
  TANDEM_CHECK(xr.lo <= xr.hi, "chart '" << spec.id << "' has no finite point to draw");
  Layout l;
  l.xs = axis_for(xr, spec.x_integer);
  l.ys = axis_for(yr, spec.y_integer);
  double tick_width = 0;
  for (double t : l.ys.ticks) tick_width = std::max(tick_width, text_width(l.ys.label(t), kTickFont));
  const bool any_legend = std::any_of(spec.series.begin(), spec.series.end(),
                                      [](const Series& s) { return !s.name.empty(); });
  const bool right = any_legend && spec.legend == LegendPlacement::kRight;
  const bool below = any_legend && spec.legend == LegendPlacement::kBelow;
  double legend_width = 0;
  for (const auto& s : spec.series)
    if (!s.name.empty()) legend_width = std::max(legend_width, legend_entry_width(s.name));
  l.plot.x0 = kPad + kAxisTitleBand + tick_width + 8;
  l.plot.y0 = kTitleBand;
  l.plot.x1 = spec.width - kPad - (right ? legend_width : 0);
  l.plot.y1 = spec.height - kBottomBand - (below ? kLegendRow : 0);
  l.legend_x = right ? l.plot.x1 + 16 : l.plot.x0;
  l.legend_y = right ? l.plot.y0 + 6 : spec.height - kPad - 4;
  TANDEM_CHECK(l.plot.x1 - l.plot.x0 > 40 && l.plot.y1 - l.plot.y0 > 40,
               "chart '" << spec.id << "' is too small (" << spec.width << "x" << spec.height
                         << ") for its labels and legend");
  return l;
}

void write_axes(std::ostringstream& o, const ChartSpec& spec, const Layout& l) {
  o << "<g class=\"grid\" stroke=\"#e4e7eb\" stroke-width=\"1\">";
  for (double t : l.xs.ticks)
    o << "<line" << attr("x1", l.x(t)) << attr("x2", l.x(t)) << attr("y1", l.plot.y0)
      << attr("y2", l.plot.y1) << "/>";
  for (double t : l.ys.ticks)
    o << "<line" << attr("x1", l.plot.x0) << attr("x2", l.plot.x1) << attr("y1", l.y(t))
      << attr("y2", l.y(t)) << "/>";
  o << "</g>";
  o << "<g class=\"axes\" stroke=\"#52606d\" stroke-width=\"1\">"
    << "<line" << attr("x1", l.plot.x0) << attr("x2", l.plot.x1) << attr("y1", l.plot.y1)
    << attr("y2", l.plot.y1) << "/>"
    << "<line" << attr("x1", l.plot.x0) << attr("x2", l.plot.x0) << attr("y1", l.plot.y0)
    << attr("y2", l.plot.y1) << "/></g>";
  o << "<g class=\"ticks\" fill=\"#52606d\" font-size=\"" << kTickFont << "\">";
  for (double t : l.xs.ticks)
    o << "<text" << attr("x", l.x(t)) << attr("y", l.plot.y1 + 16) << " text-anchor=\"middle\">"
      << escape_xml(l.xs.label(t)) << "</text>";
  for (double t : l.ys.ticks)
    o << "<text" << attr("x", l.plot.x0 - 6) << attr("y", l.y(t) + 4) << " text-anchor=\"end\">"
      << escape_xml(l.ys.label(t)) << "</text>";
  o << "</g>";
  const double ymid = (l.plot.y0 + l.plot.y1) / 2;
  o << "<text class=\"axis-title\" fill=\"#323f4b\" font-size=\"12\" text-anchor=\"middle\""
    << attr("x", (l.plot.x0 + l.plot.x1) / 2) << attr("y", l.plot.y1 + kBottomBand - kPad + 2) << ">"
    << escape_xml(spec.x_label) << "</text>";
  o << "<text class=\"axis-title\" fill=\"#323f4b\" font-size=\"12\" text-anchor=\"middle\""
    << attr("x", kPad + 4) << attr("y", ymid)
    << attr("transform", "rotate(-90 " + fixed(kPad + 4, 1) + " " + fixed(ymid, 1) + ")") << ">"
    << escape_xml(spec.y_label) << "</text>";
}

std::string colour_of(const ChartSpec& spec, size_t i) {
  return spec.series[i].colour.empty() ? series_colour(i) : spec.series[i].colour;
}

void write_series(std::ostringstream& o, const ChartSpec& spec, const Layout& l) {
  for (size_t i = 0; i < spec.series.size(); ++i) {
    const Series& s = spec.series[i];
    const std::string colour = colour_of(spec, i);
    std::string cls = "series";
    if (!s.css_class.empty()) cls += " " + s.css_class;
    o << "<g" << attr("class", cls) << attr("data-series", s.name) << ">";
    std::vector<const ChartPoint*> pts;
    for (const auto& p : s.points)
      if (finite(p)) pts.push_back(&p);
    if (s.line && pts.size() >= 2) {
      std::string d;
      for (size_t k = 0; k < pts.size(); ++k)
        d += (k ? " L" : "M") + fixed(l.x(pts[k]->x), 1) + " " + fixed(l.y(pts[k]->y), 1);
      o << "<path class=\"series-line\"" << attr("d", d) << " fill=\"none\"" << attr("stroke", colour)
        << " stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\""
        << (s.dashed ? " stroke-dasharray=\"6 4\"" : "") << "/>";
    }
    if (s.marker_radius > 0) {
      for (const ChartPoint* p : pts) {
        o << "<circle" << attr("class", s.marker_class) << attr("cx", l.x(p->x))
          << attr("cy", l.y(p->y)) << attr("r", s.marker_radius)
          << attr("fill", s.hollow ? "#ffffff" : colour) << attr("stroke", colour)
          << " stroke-width=\"1.5\"><title>" << escape_xml(p->tooltip.empty() ? p->label : p->tooltip)
          << "</title></circle>";
      }
    }
    o << "</g>";
  }
}

// Point labels, each at the first of a few positions around its marker that
// stays inside the plot and overlaps no marker or earlier label (else the
// least overlapping one).
void write_point_labels(std::ostringstream& o, const ChartSpec& spec, const Layout& l) {
  struct Slot {
    double dx, dy;
    const char* anchor;
  };
  static constexpr std::array<Slot, 8> kSlots{{{8, 4, "start"},
                                               {-8, 4, "end"},
                                               {7, -7, "start"},
                                               {7, 15, "start"},
                                               {-7, -7, "end"},
                                               {-7, 15, "end"},
                                               {0, -10, "middle"},
                                               {0, 19, "middle"}}};
  // Obstacles: every marker, and the lines as a trail of small boxes.
  std::vector<Box> taken;
  for (const auto& s : spec.series) {
    const ChartPoint* prev = nullptr;
    for (const auto& p : s.points) {
      if (!finite(p)) continue;
      const double px = l.x(p.x), py = l.y(p.y);
      if (s.marker_radius > 0) {
        const double r = s.marker_radius + 1;
        taken.push_back({px - r, py - r, px + r, py + r});
      }
      if (s.line && prev != nullptr) {
        const double qx = l.x(prev->x), qy = l.y(prev->y);
        const int steps = static_cast<int>(std::hypot(px - qx, py - qy) / 3.0);
        for (int k = 1; k < steps; ++k) {
          const double t = static_cast<double>(k) / steps;
          const double x = qx + t * (px - qx), y = qy + t * (py - qy);
          taken.push_back({x - 1.5, y - 1.5, x + 1.5, y + 1.5});
        }
      }
      prev = &p;
    }
  }
  const Box frame{l.plot.x0, l.plot.y0 - 8, l.plot.x1 + 8, l.plot.y1};
  o << "<g class=\"point-labels\" fill=\"#323f4b\" font-size=\"" << kLabelFont << "\">";
  for (const auto& s : spec.series) {
    if (!s.label_points) continue;
    for (const auto& p : s.points) {
      if (!finite(p) || p.label.empty()) continue;
      const double w = text_width(p.label, kLabelFont), px = l.x(p.x), py = l.y(p.y);
      double best_cost = std::numeric_limits<double>::infinity();
      Box best_box{};
      const Slot* best = &kSlots[0];
      for (const Slot& slot : kSlots) {
        const double ax = px + slot.dx, base = py + slot.dy;
        const double x0 = slot.anchor[0] == 's' ? ax : slot.anchor[0] == 'e' ? ax - w : ax - w / 2;
        const Box box{x0, base - kLabelFont + 2, x0 + w, base + 3};
        double cost = box.inside(frame) ? 0.0 : 1e6;
        for (const Box& t : taken) cost += box.overlap(t);
        if (cost < best_cost) {
          best_cost = cost;
          best_box = box;
          best = &slot;
        }
        if (cost == 0.0) break;
      }
      taken.push_back(best_box);
      o << "<text class=\"point-label\"" << attr("x", px + best->dx) << attr("y", py + best->dy)
        << attr("text-anchor", best->anchor) << ">" << escape_xml(p.label) << "</text>";
    }
  }
  o << "</g>";
}

void write_legend(std::ostringstream& o, const ChartSpec& spec, const Layout& l) {
  o << "<g class=\"legend\" font-size=\"" << kLegendFont << "\" fill=\"#323f4b\">";
  double x = l.legend_x, y = l.legend_y;
  for (size_t i = 0; i < spec.series.size(); ++i) {
    const Series& s = spec.series[i];
    if (s.name.empty()) continue;
    const std::string colour = colour_of(spec, i);
    if (s.line)
      o << "<line" << attr("x1", x) << attr("x2", x + 20) << attr("y1", y) << attr("y2", y)
        << attr("stroke", colour) << " stroke-width=\"2\"" << (s.dashed ? " stroke-dasharray=\"6 4\"" : "")
        << "/>";
    if (s.marker_radius > 0)
      o << "<circle" << attr("cx", x + 10) << attr("cy", y) << attr("r", std::min(s.marker_radius, 5.0))
        << attr("fill", s.hollow ? "#ffffff" : colour) << attr("stroke", colour) << " stroke-width=\"1.5\"/>";
    o << "<text" << attr("x", x + 28) << attr("y", y + 4) << ">" << escape_xml(s.name) << "</text>";
    if (spec.legend == LegendPlacement::kBelow) {
      x += legend_entry_width(s.name);
    } else {
      y += 20;
    }
  }
  o << "</g>";
}

}  // namespace

const std::string& series_colour(size_t i) {
  static const std::array<std::string, 10> kPalette{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2",
                                                    "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
                                                    "#9c755f", "#bab0ac"};
  return kPalette[i % kPalette.size()];
}

std::string render_svg(const ChartSpec& spec) {
  const Layout l = layout(spec);
  const std::string title_id = spec.id + "-title", desc_id = spec.id + "-desc";
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\"" << attr("data-chart", spec.id)
    << attr("id", spec.id) << " role=\"img\"" << attr("aria-labelledby", title_id + " " + desc_id)
    << attr("width", std::to_string(spec.width)) << attr("height", std::to_string(spec.height))
    << attr("viewBox", "0 0 " + std::to_string(spec.width) + " " + std::to_string(spec.height))
    << " font-family=\"system-ui, -apple-system, 'Segoe UI', 'Liberation Sans', Arial, sans-serif\">";
  o << "<title" << attr("id", title_id) << ">" << escape_xml(spec.title) << "</title>";
  o << "<desc" << attr("id", desc_id) << ">" << escape_xml(spec.description) << "</desc>";
  o << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>";
  o << "<text class=\"chart-title\" fill=\"#1f2933\" font-size=\"15\" font-weight=\"600\""
    << attr("x", kPad) << attr("y", 26) << ">" << escape_xml(spec.title) << "</text>";
  write_axes(o, spec, l);
  write_series(o, spec, l);
  write_point_labels(o, spec, l);
  write_legend(o, spec, l);
  o << "</svg>";
  return o.str();
}

}  // namespace tandem::report
