// The sweep report: one self-contained HTML page (inline CSS and SVG, no
// scripts, no external resources) with the accuracy/RMSE trade-off and its
// Pareto front, the metrics of every variant, the training curves per task,
// sample recommendations from one chosen model, and the run's setup.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "tandem/artifact/sweep_record.h"
#include "tandem/report/sample_recommendations.h"

namespace tandem::report {

struct ReportInput {
  SweepRecord sweep;
  std::string source;         // where the sweep was read from (shown in the page)
  std::string generated_at;   // UTC timestamp of the report
  size_t chosen = 0;          // variant whose model gave the samples
  bool chosen_by_user = false;  // --model, rather than the balanced choice
  SampleOptions sample_options;
  std::vector<UserSample> samples;
};

std::string render_report(const ReportInput& input);

}  // namespace tandem::report
