// tandem report: one self-contained HTML page from a sweep's run directory
// (or a `tandem compare --output-dir` directory).
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "tandem/report/report_input.h"

namespace tandem::cli {

Action add_report(CLI::App& app) {
  struct Options {
    std::string run_dir, output;
    report::ReportOptions report;
    bool include_seen = false;
  };
  auto o = std::make_shared<Options>();
  app.add_option("RUN_DIR", o->run_dir, "Run directory of `tandem sweep --out` (or of compare --output-dir)")
      ->required();
  app.add_option("--output,-o", o->output, "HTML file to write (default: RUN_DIR/report.html)");
  app.add_option("--model", o->report.variant,
                 "Weights RANKING:RETRIEVAL of the model whose recommendations are shown (default: "
                 "the balanced Pareto-front model)");
  app.add_option("--users", o->report.samples.users, "Users to recommend for, e.g. 5,42,196")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--k", o->report.samples.k, "Movies per user")->check(CLI::Range(1, 100))->capture_default_str();
  app.add_option("--candidates", o->report.samples.candidates, "Movies retrieved before ranking")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_flag("--include-seen", o->include_seen, "Keep the movies each user rated in training");
  return [o] {
    o->report.samples.exclude_seen = !o->include_seen;
    const std::string out =
        o->output.empty() ? (std::filesystem::path(o->run_dir) / "report.html").string() : o->output;
    const report::ReportInput in = report::collect_report_input(o->run_dir, o->report);
    const std::string html = report::render_report(in);
    report::write_report(out, html);
    std::printf("Wrote %s (%.0f KiB, self-contained): %zu weight pairs, recommendations from %s.\n",
                out.c_str(), static_cast<double>(html.size()) / 1024.0, in.sweep.variants.size(),
                in.sweep.variants[in.chosen].label.c_str());
    return 0;
  };
}

}  // namespace tandem::cli
