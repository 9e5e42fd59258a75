// Everything the report shows, gathered from a run directory: the sweep
// record, the variant whose model gives the sample recommendations, and
// those recommendations.
#pragma once

#include <string>

#include "tandem/report/html_report.h"

namespace tandem::report {

struct ReportOptions {
  std::string variant;  // weights label ("1:0.3"); empty: the balanced variant
  SampleOptions samples;
};

// Reads RUN_DIR (see load_run_dir), picks the variant and loads its model.
ReportInput collect_report_input(const std::string& run_dir, const ReportOptions& options);

// Writes the page atomically (never a half-written report).
void write_report(const std::string& path, const std::string& html);

}  // namespace tandem::report
