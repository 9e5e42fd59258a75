#include "tandem/config/resume_config.h"

#include <set>

#include "tandem/core/error.h"
#include "tandem/train/lr_schedule.h"

namespace tandem {

ExperimentConfig resume_config(const ExperimentConfig& stored, const ExperimentConfig& requested,
                               int epochs_done, const std::string& source) {
  requested.validate();
  // Compared through the JSON form, which names every field that defines a
  // run, so a field added to the config later is checked without a change here.
  std::set<std::string> may_differ = {"data.data_dir", "data.train_file", "data.test_file",
                                      "train.epochs"};
  // A schedule over the whole run (cosine to the last step) gave the steps
  // already taken rates that depend on the epochs: those cannot change.
  if (schedule_depends_on_total_steps(stored.optimizer.schedule)) may_differ.erase("train.epochs");
  const nlohmann::json a = stored.to_json(), b = requested.to_json();
  std::string conflicts;
  for (const auto& [section, value] : a.items()) {
    if (section == "evaluate") continue;
    if (!value.is_object()) {
      if (value != b.at(section))
        conflicts += "; " + section + " is " + value.dump() + " in the checkpoint, " +
                     b.at(section).dump() + " on the command line";
      continue;
    }
    for (const auto& [key, v] : value.items()) {
      const std::string field = section + "." + key;
      const nlohmann::json& w = b.at(section).at(key);
      if (may_differ.count(field) == 0 && v != w)
        conflicts += "; " + field + " is " + v.dump() + " in the checkpoint, " + w.dump() +
                     " on the command line";
    }
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
