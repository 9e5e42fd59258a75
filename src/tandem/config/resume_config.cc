#include "tandem/config/resume_config.h"

#include "tandem/config/settings.h"
#include "tandem/core/error.h"
#include "tandem/train/lr_schedule.h"

namespace tandem {

ExperimentConfig resume_config(const ExperimentConfig& stored, const ExperimentConfig& requested,
                               int epochs_done, const std::string& source) {
  requested.validate();
  // Every setting of the model file defines the run unless the registry
  // says it may change on resume (data locations, epochs, evaluation).
  // A schedule over the whole run (cosine to the last step) gave the steps
  // already taken rates that depend on the epochs: those cannot change.
  const bool epochs_fixed = schedule_depends_on_total_steps(stored.optimizer.schedule);
  std::string conflicts;
  for (const Setting& s : settings()) {
    if (!s.in_model_file) continue;
    if (!s.fixed_on_resume && !(epochs_fixed && s.path() == "training.epochs")) continue;
    const nlohmann::json a = s.get(stored), b = s.get(requested);
    if (a != b)
      conflicts += "; " + s.display_name() + " is " + setting_toml_value(s, a) +
                   " in the checkpoint, " + setting_toml_value(s, b) + " on the command line";
  }
  TANDEM_CHECK(conflicts.empty(), "cannot resume from " << source
                                                        << ": the command line conflicts with the "
                                                           "checkpoint's configuration"
                                                        << conflicts);
  TANDEM_CHECK(requested.epochs >= epochs_done,
               "cannot resume from " << source << ": --epochs " << requested.epochs
                                     << " is fewer than the " << epochs_done
                                     << " epochs the checkpoint has done");
  return requested;
}

}  // namespace tandem
