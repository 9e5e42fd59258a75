// The sweep report in a real browser: a small sweep on MovieLens-100K,
// `tandem report`, then headless chromium renders the page. Checks the
// screenshot (decoded with libpng: the chart areas hold drawn, coloured
// pixels) and the DOM chromium built (one <svg> per chart with one marker per
// data point and one path per series, the metrics rows, the recommended
// titles).
//
// chromium comes from scripts/install-browser.sh. Without it the test fails,
// unless TANDEM_ALLOW_NO_BROWSER=1, which skips it with a message.
#include <gtest/gtest.h>
#include <png.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "e2e_util.h"

namespace tandem::testing {
namespace {

namespace fs = std::filesystem;

// $TANDEM_CHROMIUM, else `chromium` on PATH; empty if neither.
std::string find_chromium() {
  if (const char* env = std::getenv("TANDEM_CHROMIUM"); env && *env) return fs::exists(env) ? env : "";
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const fs::path candidate = fs::path(dir) / "chromium";
    if (!dir.empty() && fs::exists(candidate)) return candidate.string();
  }
  return "";
}

#define TANDEM_REQUIRE_BROWSER(var)                                                            \
  const std::string var = find_chromium();                                                     \
  do {                                                                                         \
    if (var.empty()) {                                                                         \
      const char* allow = std::getenv("TANDEM_ALLOW_NO_BROWSER");                              \
      if (allow && std::string(allow) == "1")                                                  \
        GTEST_SKIP() << "chromium not found: the report was NOT checked in a browser "         \
                        "(TANDEM_ALLOW_NO_BROWSER=1; scripts/install-browser.sh installs it)"; \
      FAIL() << "chromium not found on PATH or in $TANDEM_CHROMIUM: run "                      \
                "scripts/install-browser.sh (or set TANDEM_ALLOW_NO_BROWSER=1 to skip)";       \
    }                                                                                          \
  } while (0)

struct Rgb {
  int r, g, b;
};

struct Image {
  unsigned width = 0, height = 0;
  std::vector<unsigned char> rgb;  // row-major, 3 bytes per pixel
  Rgb at(unsigned x, unsigned y) const {
    const size_t i = (static_cast<size_t>(y) * width + x) * 3;
    return {rgb[i], rgb[i + 1], rgb[i + 2]};
  }
};

Image read_png(const std::string& path) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  Image img;
  if (!png_image_begin_read_from_file(&png, path.c_str())) {
    ADD_FAILURE() << path << ": " << png.message;
    return img;
  }
  png.format = PNG_FORMAT_RGB;
  img.rgb.resize(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, nullptr, img.rgb.data(), 0, nullptr)) {
    ADD_FAILURE() << path << ": " << png.message;
    img.rgb.clear();
    return img;
  }
  img.width = png.width;
  img.height = png.height;
  return img;
}

Rgb hex(const std::string& css) {  // "#d1495b"
  return {std::stoi(css.substr(1, 2), nullptr, 16), std::stoi(css.substr(3, 2), nullptr, 16),
          std::stoi(css.substr(5, 2), nullptr, 16)};
}

bool near(Rgb a, Rgb b, int tolerance) {
  return std::abs(a.r - b.r) <= tolerance && std::abs(a.g - b.g) <= tolerance &&
         std::abs(a.b - b.b) <= tolerance;
}

struct Rect {
  unsigned x = 0, y = 0, w = 0, h = 0;
};

struct PixelStats {
  double non_white = 0.0;  // fraction of pixels that are not (nearly) white
  size_t colours = 0;      // distinct colours, 4 bits per channel
  std::map<std::string, size_t> matches;  // pixels near each asked-for colour
};

PixelStats pixel_stats(const Image& img, const Rect& r, const std::vector<std::string>& colours) {
  PixelStats s;
  std::set<int> distinct;
  size_t non_white = 0;
  for (unsigned y = r.y; y < r.y + r.h; ++y) {
    for (unsigned x = r.x; x < r.x + r.w; ++x) {
      const Rgb p = img.at(x, y);
      if (p.r < 245 || p.g < 245 || p.b < 245) ++non_white;
      distinct.insert((p.r >> 4) << 8 | (p.g >> 4) << 4 | (p.b >> 4));
      for (const auto& c : colours)
        if (near(p, hex(c), 24)) ++s.matches[c];
    }
  }
  s.non_white = static_cast<double>(non_white) / (static_cast<double>(r.w) * r.h);
  s.colours = distinct.size();
  return s;
}

// The markup between an element's opening tag (found by `start`) and the end
// tag `end` that follows it.
std::string element(const std::string& dom, const std::string& start, const std::string& end) {
  const size_t b = dom.find(start);
  if (b == std::string::npos) return "";
  const size_t e = dom.find(end, b);
  return e == std::string::npos ? "" : dom.substr(b, e + end.size() - b);
}

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1)) ++n;
  return n;
}

// Text as the DOM serialiser writes it inside an element.
std::string dom_text(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}

class ReportBrowser : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tandem_browser_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);  // kept for inspection otherwise
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  CommandResult chromium(const std::string& binary, const std::string& args, const std::string& page) const {
    return run_command("timeout 120 '" + binary + "' --headless --no-sandbox --disable-gpu --user-data-dir='" +
                       path("profile") + "' --window-size=1200,3000 " + args + " 'file://" + page + "'");
  }
  fs::path dir_;
};

TEST_F(ReportBrowser, ChartsTablesAndRecommendationsRender) {
  TANDEM_REQUIRE_MOVIELENS();
  TANDEM_REQUIRE_BROWSER(browser);

  // A small sweep: 3 weight pairs, 2 epochs (so each loss curve is a line),
  // a reduced split.
  const std::string run = path("run");
  auto sweep = run_tandem("sweep --preset kerasrs --data '" + movielens_dir() +
                          "' --weights 0:1,1:1,1:0 --epochs 2 --train-count 20000 --test-count 5000 "
                          "--threads 1 --quiet --out '" + run + "'");
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  EXPECT_NE(sweep.out.find("| Pareto |"), std::string::npos) << sweep.out;
  const std::string report = path("report.html");
  auto rep = run_tandem("report '" + run + "' -o '" + report + "' --users 5,42 --k 5");
  ASSERT_EQ(rep.exit_code, 0) << rep.err;

  std::ifstream record_file(fs::path(run) / "run.json");
  const auto record = nlohmann::json::parse(record_file);
  const auto& variants = record["variants"];
  ASSERT_EQ(variants.size(), 3u);
  size_t front = 0, ranking = 0, retrieval = 0;
  double front_max_rmse = 0;
  std::string model_file;
  for (const auto& v : variants) {
    if (v["pareto"].get<bool>()) {
      ++front;
      front_max_rmse = std::max(front_max_rmse, v["rmse"].get<double>());
    }
    ranking += v["ranking_weight"].get<double>() > 0;
    retrieval += v["retrieval_weight"].get<double>() > 0;
    if (v["label"] == record["balanced"]) model_file = v["model_file"];
  }
  ASSERT_FALSE(model_file.empty());
  size_t far_off = 0;  // pairs the close-up leaves out
  for (const auto& v : variants) far_off += v["rmse"].get<double>() > front_max_rmse * 1.1;

  // What the report's recommendations must be: `tandem recommend` on the
  // balanced model, with the report's settings.
  std::vector<std::string> titles;
  for (const char* user : {"5", "42"}) {
    auto r = run_tandem("recommend --json --model '" + (fs::path(run) / model_file).string() + "' --user " +
                        user + " --k 5 --candidates 50 --exclude-seen");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto answer = nlohmann::json::parse(r.out);
    for (const auto& item : answer["items"]) titles.push_back(item["title"]);
  }
  ASSERT_EQ(titles.size(), 10u);

  // The DOM after chromium ran the page, plus each chart's box in page
  // pixels (written by a script added to a copy; the report has none).
  std::ifstream in(report);
  std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string probe_script =
      "<script>for (const s of document.querySelectorAll('svg.chart')) { const r = "
      "s.getBoundingClientRect(); s.setAttribute('data-rect', [r.left + scrollX, r.top + scrollY, "
      "r.width, r.height].map(Math.round).join(',')); }</script></body>";
  const std::string probe = path("probe.html");
  std::ofstream(probe) << std::regex_replace(html, std::regex("</body>"), probe_script);
  const auto dump = chromium(browser, "--dump-dom", probe);
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  const std::string& dom = dump.out;

  const std::vector<std::string> charts = far_off > 0
      ? std::vector<std::string>{"pareto", "pareto-closeup", "ranking-loss", "retrieval-loss"}
      : std::vector<std::string>{"pareto", "ranking-loss", "retrieval-loss"};
  EXPECT_EQ(count(dom, "<svg"), charts.size());
  std::map<std::string, Rect> rects;
  for (const auto& id : charts) {
    SCOPED_TRACE(id);
    const std::string svg = element(dom, "data-chart=\"" + id + "\"", "</svg>");
    ASSERT_FALSE(svg.empty());
    std::smatch m;
    ASSERT_TRUE(std::regex_search(svg, m, std::regex("data-rect=\"(\\d+),(\\d+),(\\d+),(\\d+)\"")));
    rects[id] = {static_cast<unsigned>(std::stoul(m[1])), static_cast<unsigned>(std::stoul(m[2])),
                 static_cast<unsigned>(std::stoul(m[3])), static_cast<unsigned>(std::stoul(m[4]))};
    EXPECT_NE(svg.find("role=\"img\""), std::string::npos);
    if (id == "pareto" || id == "pareto-closeup") {
      const size_t shown = id == "pareto" ? variants.size() : variants.size() - far_off;
      EXPECT_EQ(count(svg, "class=\"point\""), shown);
      EXPECT_EQ(count(svg, "class=\"point-label\""), shown);
      const std::string front_group = element(svg, "<g class=\"series front\"", "</g>");
      EXPECT_EQ(count(front_group, "class=\"point\""), front);
      EXPECT_EQ(count(front_group, "class=\"series-line\""), front >= 2 ? 1u : 0u);
      EXPECT_EQ(count(svg, "class=\"choice-ring\""), 1u);
    } else {
      const size_t series = id == "ranking-loss" ? ranking : retrieval;
      EXPECT_EQ(count(svg, "<g class=\"series variant\""), series);
      EXPECT_EQ(count(svg, "class=\"series-line\""), series);
      EXPECT_EQ(count(svg, "class=\"point\""), series * 2);  // 2 epochs
    }
  }
  EXPECT_EQ(count(dom, "<tr class=\"variant-row"), variants.size());
  EXPECT_EQ(count(dom, "<tr class=\"ranking-row"), variants.size());  // the ranking metrics' table
  for (const auto& v : variants)
    EXPECT_NE(dom.find("data-weights=\"" + v["label"].get<std::string>() + "\""), std::string::npos);
  for (const auto& t : titles)
    EXPECT_NE(dom.find("<td class=\"title\">" + dom_text(t) + "</td>"), std::string::npos) << t;

  // The screenshot: not blank, and every chart drawn where the DOM says.
  const std::string shot = path("report.png");
  const auto screenshot = chromium(browser, "--screenshot='" + shot + "'", report);
  ASSERT_EQ(screenshot.exit_code, 0) << screenshot.err;
  const Image img = read_png(shot);
  ASSERT_EQ(img.width, 1200u);
  ASSERT_EQ(img.height, 3000u);
  const PixelStats page = pixel_stats(img, {0, 0, img.width, img.height}, {});
  // Background and cards are (nearly) white: what is not is text, rules and charts.
  EXPECT_GT(page.non_white, 0.03);
  EXPECT_GT(page.colours, 50u);
  for (const auto& id : charts) {
    SCOPED_TRACE(id);
    const Rect r = rects[id];
    ASSERT_GT(r.w, 300u);
    ASSERT_GT(r.h, 250u);
    ASSERT_LE(r.x + r.w, img.width);
    ASSERT_LE(r.y + r.h, img.height) << "chart below the screenshot's 3000 px";
    // The colours the chart must show: the front's red on the trade-off
    // charts, each variant's colour (line and legend) on the loss charts.
    std::vector<std::string> colours;
    if (id == "pareto" || id == "pareto-closeup") {
      colours = {"#d1495b"};
    } else {
      const std::string svg = element(dom, "data-chart=\"" + id + "\"", "</svg>");
      const std::regex stroke("class=\"series-line\" d=\"[^\"]*\" fill=\"none\" stroke=\"(#[0-9a-f]{6})\"");
      for (auto it = std::sregex_iterator(svg.begin(), svg.end(), stroke); it != std::sregex_iterator(); ++it)
        colours.push_back((*it)[1]);
      EXPECT_FALSE(colours.empty());
    }
    PixelStats s = pixel_stats(img, r, colours);
    EXPECT_GT(s.non_white, 0.02) << "chart area nearly blank";
    EXPECT_GE(s.colours, 8u) << "too few distinct colours in the chart area";
    for (const auto& c : colours) EXPECT_GE(s.matches[c], 10u) << "hardly any " << c << " pixels";
  }
}

}  // namespace
}  // namespace tandem::testing
