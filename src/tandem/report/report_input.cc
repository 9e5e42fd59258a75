#include "tandem/report/report_input.h"

#include <filesystem>

#include "tandem/core/machine_info.h"
#include "tandem/artifact/trained_model.h"
#include "tandem/core/atomic_file.h"
#include "tandem/core/error.h"

namespace tandem::report {

namespace fs = std::filesystem;

ReportInput collect_report_input(const std::string& run_dir, const ReportOptions& options) {
  ReportInput in;
  in.sweep = load_run_dir(run_dir);
  TANDEM_CHECK(!in.sweep.variants.empty(), run_dir << ": the sweep has no trained variant yet");
  in.source = fs::absolute(run_dir).lexically_normal().string();
  in.generated_at = utc_timestamp();
  if (!options.variant.empty()) {
    in.chosen = in.sweep.find(options.variant);
    in.chosen_by_user = true;
  } else {
    // Every record with a finite point has a front, hence a balanced choice;
    // only all-NaN metrics leave none, and then the first model is as good.
    in.chosen = in.sweep.balanced().value_or(0);
  }
  const auto& v = in.sweep.variants[in.chosen];
  TANDEM_CHECK(!v.model_file.empty(), run_dir << ": variant " << v.label << " has no model file");
  in.sample_options = options.samples;
  in.samples = sample_recommendations(load_model((fs::path(run_dir) / v.model_file).string()),
                                      options.samples);
  return in;
}

void write_report(const std::string& path, const std::string& html) {
  AtomicFile file(path);
  file.write(html.data(), html.size());
  file.commit();
}

}  // namespace tandem::report
